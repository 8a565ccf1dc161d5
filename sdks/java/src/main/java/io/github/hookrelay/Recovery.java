package io.github.hookrelay;

import java.time.Instant;

/** A durable task re-delivering a webhook's failed and skipped deliveries (or releasing held ones). */
public record Recovery(String id, String webhookId, boolean release, Instant since, Instant until, String status, int recovered) {
    public boolean isCompleted() {
        return "completed".equals(status);
    }
}
