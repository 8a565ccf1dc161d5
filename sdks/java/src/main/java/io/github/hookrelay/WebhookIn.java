package io.github.hookrelay;

import java.util.List;
import java.util.Map;

/**
 * A webhook to create ({@link Webhooks#create}, {@link Applications#createWebhook}) or to create or replace by uid
 * ({@link Webhooks#register}).
 */
public final class WebhookIn extends JsonBody<WebhookIn> {
    public WebhookIn(String url) {
        put("url", url);
    }

    /** The application (id or uid) it belongs to; fixed once created. Without, it is organization-level. */
    public WebhookIn application(String application) {
        return put("application", application);
    }

    /** Not for register, where the path names it. */
    public WebhookIn uid(String uid) {
        return put("uid", uid);
    }

    public WebhookIn description(String description) {
        return put("description", description);
    }

    /** Event type names, "*" or "prefix.*"; left out (or null) for every type. */
    public WebhookIn events(List<String> events) {
        return put("events", events);
    }

    public WebhookIn events(String... events) {
        return events(List.of(events));
    }

    public WebhookIn channels(List<String> channels) {
        return put("channels", channels);
    }

    /** A MongoDB-style query on the envelope, e.g. {"data.sentiment": {"$in": ["negative"]}}. */
    public WebhookIn filter(Map<String, ?> filter) {
        return put("filter", filter);
    }

    /** Sent on every delivery. A secret header's value given as "••••••••" keeps the stored one. */
    public WebhookIn headers(Map<String, String> headers) {
        return put("headers", headers);
    }

    /** More of the headers whose values are secret (stored encrypted, shown masked), beside those secret by name. */
    public WebhookIn secretHeaders(List<String> names) {
        return put("secret_headers", names);
    }

    /** Your own secret (at least 24 characters) instead of a generated whsec_…. */
    public WebhookIn secret(String secret) {
        return put("secret", secret);
    }

    /** Waits before each retry ("1m", "5m", "1h", …); an empty list for a single attempt. */
    public WebhookIn retrySchedule(List<String> schedule) {
        return put("retry_schedule", schedule);
    }

    public WebhookIn timeoutMs(int timeoutMs) {
        return put("timeout_ms", timeoutMs);
    }

    public WebhookIn rateLimitPerS(Integer perSecond) {
        return put("rate_limit_per_s", perSecond);
    }

    /** Attempts in flight to it at once, per worker process (1 to 1000); null for the deployment's default. */
    public WebhookIn maxInFlight(Integer maxInFlight) {
        return put("max_in_flight", maxInFlight);
    }
}
