package io.github.hookrelay;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A webhook: an endpoint events are delivered to. applicationId is null for an organization-level webhook;
 * events null means every event type, channels null every channel; maxInFlight null the deployment's default.
 * secret is set in the answer to create, and to get with the secret asked for; so are the values of secret
 * headers (secretHeaders), which are "••••••••" elsewhere. recentDeliveries (get only) and
 * recovery (the answer to enable) are null elsewhere.
 */
public record Webhook(
        String id,
        String applicationId,
        String uid,
        String url,
        String description,
        List<String> events,
        List<String> channels,
        Map<String, Object> filter,
        Map<String, String> headers,
        List<String> secretHeaders,
        List<String> retrySchedule,
        int timeoutMs,
        Integer rateLimitPerS,
        Integer maxInFlight,
        WebhookStatus status,
        boolean disabled,
        String disabledReason,
        HealthStatus healthStatus,
        String secret,
        Instant createdAt,
        Instant updatedAt,
        List<Delivery> recentDeliveries,
        Recovery recovery) {}
