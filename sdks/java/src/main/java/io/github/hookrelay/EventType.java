package io.github.hookrelay;

import java.time.Instant;
import java.util.Map;

public record EventType(String name, String description, Map<String, Object> schema, boolean deprecated, String replacedBy, boolean archived, Instant createdAt, Instant updatedAt) {}
