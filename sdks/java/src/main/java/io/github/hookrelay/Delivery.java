package io.github.hookrelay;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;

/**
 * One event's delivery to one webhook. waiting is set while its next attempt waits for room to be sent;
 * attempts is set by get and test only.
 */
public record Delivery(
        String id,
        String applicationId,
        String webhookId,
        String eventId,
        String event,
        JsonNode payload,
        DeliveryStatus status,
        int attempt,
        Integer statusCode,
        Instant nextAttemptAt,
        Instant deliveredAt,
        Instant createdAt,
        String workflowId,
        Waiting waiting,
        List<Attempt> attempts) {

    /** reason: endpoint_in_flight, application_share, worker_capacity; proxy_unavailable or resolver_unavailable (hookrelay's own path). */
    public record Waiting(String reason, Instant since) {}

    /** error: null, or timeout, connection_refused, dns, tls, blocked_address, http_status; proxy_unavailable, resolver_unavailable (hookrelay's own path, not the endpoint's). */
    public record Attempt(
            String id,
            int attempt,
            Integer statusCode,
            int durationMs,
            String error,
            String responseBody,
            Instant createdAt,
            int sends,
            boolean inFlight) {}
}
