package io.github.hookrelay;

import java.time.Instant;
import java.util.Map;

/** One customer of yours: its webhooks receive only the events published to it. uid is your own id of it, or null. */
public record Application(String id, String uid, String name, Map<String, Object> metadata, Integer rateLimitPerS, Instant createdAt, Instant updatedAt) {}
