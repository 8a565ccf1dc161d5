package io.github.hookrelay;

import java.util.List;

/** An application's attempts of the last 24 h, and the health of each of its webhooks. */
public record ApplicationStats(String window, Attempts attempts, Double successRate, Percentiles latencyMs, List<WebhookHealth> webhooks) {
    public record Attempts(int succeeded, int failed) {}

    public record WebhookHealth(String id, String uid, String url, WebhookStatus status, HealthStatus healthStatus) {}
}
