package io.github.hookrelay;

import static io.github.hookrelay.Hookrelay.seg;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/** Webhooks: the endpoints events are delivered to. */
public final class Webhooks {
    private final Hookrelay client;

    Webhooks(Hookrelay client) {
        this.client = client;
    }

    public static final class Filter extends ListFilter<Filter> {
        public Filter status(WebhookStatus status) {
            return set("status", status == null ? null : status.wire());
        }

        /** Webhooks subscribed to this event type. */
        public Filter event(String eventType) {
            return set("event", eventType);
        }

        public Filter uid(String uid) {
            return set("uid", uid);
        }

        public Filter application(String application) {
            return set("application", application);
        }
    }

    /** Creates a webhook. The answer carries its secret: the only time it is shown unless asked for. */
    public Webhook create(WebhookIn webhook) {
        return client.send(Request.post("/v1/webhooks", webhook), Webhook.class);
    }

    /**
     * Creates or replaces the webhook with that uid (PUT /v1/webhooks/uid/{uid}): one webhook per customer source.
     * The secret stays unless one is given.
     */
    public Webhook register(String uid, WebhookIn webhook) {
        return client.send(Request.put("/v1/webhooks/uid/" + seg(uid), webhook), Webhook.class);
    }

    /** One page of webhooks; their secret is always null. */
    public Page<Webhook> list(Filter filter) {
        return client.send(Request.get("/v1/webhooks").query(filter.params), Hookrelay.pageOf(Webhook.class));
    }

    public Page<Webhook> list() {
        return list(new Filter());
    }

    public PagedIterable<Webhook> listAll(Filter filter) {
        return new PagedIterable<>(filter.firstPage(), page -> client.send(Request.get("/v1/webhooks").query(filter.forPage(page)), Hookrelay.pageOf(Webhook.class)));
    }

    public PagedIterable<Webhook> listAll() {
        return listAll(new Filter());
    }

    /** The webhook with its recent deliveries, without its secret. */
    public Webhook get(String id) {
        return get(id, false);
    }

    /** The webhook with its recent deliveries; with its secret when includeSecret. */
    public Webhook get(String id, boolean includeSecret) {
        return client.send(Request.get("/v1/webhooks/" + seg(id)).query("include_secret", includeSecret ? "true" : null), Webhook.class);
    }

    public Webhook update(String id, WebhookPatch patch) {
        return client.send(Request.patch("/v1/webhooks/" + seg(id), patch), Webhook.class);
    }

    /**
     * Pauses the webhook: in-flight deliveries are held without burning attempts, and events published meanwhile
     * are recorded as paused deliveries.
     */
    public Webhook disable(String id) {
        return client.send(Request.patch("/v1/webhooks/" + seg(id), Map.of("disabled", true)), Webhook.class);
    }

    /** Resumes the webhook; the answer's {@link Webhook#recovery()} releases the held deliveries in publication order. */
    public Webhook enable(String id) {
        return enable(id, null);
    }

    /** Resumes the webhook, then re-delivers what failed or was skipped since recoverSince (when not null). */
    public Webhook enable(String id, Instant recoverSince) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("disabled", false);
        if (recoverSince != null) body.put("recover_since", recoverSince);
        return client.send(Request.patch("/v1/webhooks/" + seg(id), body), Webhook.class);
    }

    /** Deletes the webhook: nothing more is sent to it; its running deliveries end cancelled. */
    public void delete(String id) {
        client.send(Request.delete("/v1/webhooks/" + seg(id)), Void.class);
    }

    private record Secret(String secret) {}

    /**
     * Replaces the secret with a generated one and returns it. The previous secret keeps signing too, for 24 h.
     * Not retried after a network error: it could rotate twice.
     */
    public String rotateSecret(String id) {
        return client.send(Request.post("/v1/webhooks/" + seg(id) + "/rotate-secret", Map.of()), Secret.class).secret();
    }

    /** Replaces the secret with yours (at least 24 characters). */
    public String rotateSecret(String id, String secret) {
        return client.send(Request.post("/v1/webhooks/" + seg(id) + "/rotate-secret", Map.of("secret", secret)), Secret.class).secret();
    }

    /**
     * Re-delivers every delivery of the webhook that failed or was skipped, created since then (until null: up to
     * now). A durable task: follow it with {@link #getRecovery} or {@link #waitForRecovery}.
     */
    public Recovery recover(String id, Instant since, Instant until) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("since", since);
        if (until != null) body.put("until", until);
        return client.send(Request.post("/v1/webhooks/" + seg(id) + "/recover", body), Recovery.class);
    }

    public Recovery recover(String id, Instant since) {
        return recover(id, since, null);
    }

    public Recovery getRecovery(String id, String recoveryId) {
        return client.send(Request.get("/v1/webhooks/" + seg(id) + "/recoveries/" + seg(recoveryId)), Recovery.class);
    }

    /**
     * Polls a recovery every half second until it completes, handing every state read (the last one included)
     * to onProgress, which may be null. Throws {@link HookrelayException} when it is still running after timeout.
     */
    public Recovery waitForRecovery(String id, String recoveryId, Duration timeout, Consumer<Recovery> onProgress) {
        Instant deadline = Instant.now().plus(timeout);
        for (;;) {
            Recovery r = getRecovery(id, recoveryId);
            if (onProgress != null) onProgress.accept(r);
            if (r.isCompleted()) return r;
            if (Instant.now().isAfter(deadline)) throw new HookrelayException("hookrelay: recovery " + recoveryId + " still running after " + timeout);
            Hookrelay.sleep(Duration.ofMillis(500));
        }
    }

    /** Sends a webhook.test event and returns the delivery with its first attempt, which the API waits for. */
    public Delivery test(String id) {
        return test(id, null, null);
    }

    /** Sends a test event of the given type (null: webhook.test) with the given data (may be null). */
    public Delivery test(String id, String eventType, Object data) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (eventType != null) body.put("event_type", eventType);
        if (data != null) body.put("data", JsonBody.tree(data));
        // The API waits for the attempt up to the webhook's timeout (15 s by default, at most 60 s).
        return client.send(Request.post("/v1/webhooks/" + seg(id) + "/test", body).timeout(Duration.ofSeconds(70)), Delivery.class);
    }

    /** Delivery statistics of the last 24 h. */
    public WebhookStats stats(String id) {
        return stats(id, null);
    }

    /** Delivery statistics over a window such as "1h", "24h" or "7d". */
    public WebhookStats stats(String id, String window) {
        return client.send(Request.get("/v1/webhooks/" + seg(id) + "/stats").query("window", window), WebhookStats.class);
    }

    /** One page of the webhook's delivery log, newest first. Filter the event type with {@link Deliveries.Filter#event}. */
    public Page<Delivery> deliveries(String id, Deliveries.Filter filter) {
        return client.send(Request.get("/v1/webhooks/" + seg(id) + "/deliveries").query(filter.params), Hookrelay.pageOf(Delivery.class));
    }

    public Page<Delivery> deliveries(String id) {
        return deliveries(id, new Deliveries.Filter());
    }

    /** The webhook's whole delivery log, page after page. */
    public PagedIterable<Delivery> deliveriesAll(String id, Deliveries.Filter filter) {
        String path = "/v1/webhooks/" + seg(id) + "/deliveries";
        return new PagedIterable<>(filter.firstPage(), page -> client.send(Request.get(path).query(filter.forPage(page)), Hookrelay.pageOf(Delivery.class)));
    }
}
