package io.github.hookrelay;

import java.time.Instant;

/** An API key. key, the full key, is set only in the answer to {@link Keys#create}. */
public record ApiKey(String id, String name, Role role, String applicationId, String prefix, Instant expiresAt, Instant lastUsedAt, Instant createdAt, String key) {}
