package io.github.hookrelay;

import java.util.List;
import java.util.Map;

/**
 * Changes to a webhook: only the fields set here change, and null clears a field that may be null (events: every
 * type; filter: none; rate limit and max in flight: the defaults). Pausing and resuming are
 * {@link Webhooks#disable} and {@link Webhooks#enable}.
 */
public final class WebhookPatch extends JsonBody<WebhookPatch> {
    public WebhookPatch url(String url) {
        return put("url", url);
    }

    public WebhookPatch uid(String uid) {
        return put("uid", uid);
    }

    public WebhookPatch description(String description) {
        return put("description", description);
    }

    public WebhookPatch events(List<String> events) {
        return put("events", events);
    }

    public WebhookPatch channels(List<String> channels) {
        return put("channels", channels);
    }

    public WebhookPatch filter(Map<String, ?> filter) {
        return put("filter", filter);
    }

    public WebhookPatch headers(Map<String, String> headers) {
        return put("headers", headers);
    }

    public WebhookPatch secretHeaders(List<String> names) {
        return put("secret_headers", names);
    }

    public WebhookPatch secret(String secret) {
        return put("secret", secret);
    }

    public WebhookPatch retrySchedule(List<String> schedule) {
        return put("retry_schedule", schedule);
    }

    public WebhookPatch timeoutMs(int timeoutMs) {
        return put("timeout_ms", timeoutMs);
    }

    public WebhookPatch rateLimitPerS(Integer perSecond) {
        return put("rate_limit_per_s", perSecond);
    }

    public WebhookPatch maxInFlight(Integer maxInFlight) {
        return put("max_in_flight", maxInFlight);
    }
}
