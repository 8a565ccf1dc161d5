package io.github.hookrelay;

import java.time.Instant;
import java.util.List;

public record WebhookStats(
        String window,
        Counts deliveries,
        Double successRate,
        Percentiles latencyMs,
        HealthStatus healthStatus,
        Instant lastSuccessAt,
        Instant lastFailureAt,
        List<Point> series) {
    public record Counts(int delivered, int failed, int pending) {}

    /** Deliveries by creation time: hourly for windows up to 2 days, daily beyond. */
    public record Point(Instant at, int delivered, int failed, int other) {}
}
