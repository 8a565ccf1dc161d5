package io.github.hookrelay;

import static io.github.hookrelay.Hookrelay.seg;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Your customers: each is an application with its own webhooks, delivery log, stats and keys. Wherever an
 * application is named ({@code app}), its id ({@code app_…}) or its uid works.
 */
public final class Applications {
    private final Hookrelay client;

    Applications(Hookrelay client) {
        this.client = client;
    }

    /** Filters of {@link #list}: uid, and q (the name contains it, case-insensitive). */
    public static final class Filter extends ListFilter<Filter> {
        public Filter uid(String uid) {
            return set("uid", uid);
        }

        public Filter nameContains(String q) {
            return set("q", q);
        }
    }

    /** Creates an application; a taken uid is a conflict ({@link ApiException#isConflict}). */
    public Application create(ApplicationIn application) {
        return client.send(Request.post("/v1/applications", application), Application.class);
    }

    /** Creates or updates the application with your own customer id (PUT /v1/applications/uid/{uid}). */
    public Application upsert(String uid, ApplicationIn application) {
        return client.send(Request.put("/v1/applications/uid/" + seg(uid), application), Application.class);
    }

    /** One page of applications, newest first. */
    public Page<Application> list(Filter filter) {
        return client.send(Request.get("/v1/applications").query(filter.params), Hookrelay.pageOf(Application.class));
    }

    public Page<Application> list() {
        return list(new Filter());
    }

    /** Every application, page after page. */
    public PagedIterable<Application> listAll(Filter filter) {
        return new PagedIterable<>(filter.firstPage(), page -> client.send(Request.get("/v1/applications").query(filter.forPage(page)), Hookrelay.pageOf(Application.class)));
    }

    public Application get(String app) {
        return client.send(Request.get("/v1/applications/" + seg(app)), Application.class);
    }

    public Application update(String app, ApplicationPatch patch) {
        return client.send(Request.patch("/v1/applications/" + seg(app), patch), Application.class);
    }

    /** Deletes its webhooks (their open deliveries end cancelled), revokes its keys, then deletes it. */
    public void delete(String app) {
        client.send(Request.delete("/v1/applications/" + seg(app)), Void.class);
    }

    /** Its attempts of the last 24 h, latency percentiles, and the health of each of its webhooks. */
    public ApplicationStats stats(String app) {
        return client.send(Request.get("/v1/applications/" + seg(app) + "/stats"), ApplicationStats.class);
    }

    /** One page of its webhooks (an application filter, if set, is not used). */
    public Page<Webhook> webhooks(String app, Webhooks.Filter filter) {
        Map<String, String> q = new LinkedHashMap<>(filter.params);
        q.remove("application");
        return client.send(Request.get("/v1/applications/" + seg(app) + "/webhooks").query(q), Hookrelay.pageOf(Webhook.class));
    }

    public Page<Webhook> webhooks(String app) {
        return webhooks(app, new Webhooks.Filter());
    }

    /** Creates a webhook of the application. */
    public Webhook createWebhook(String app, WebhookIn webhook) {
        return client.send(Request.post("/v1/applications/" + seg(app) + "/webhooks", webhook), Webhook.class);
    }

    /** One page of its deliveries across its webhooks, newest first. Filter the event type with {@link Deliveries.Filter#eventType}. */
    public Page<Delivery> deliveries(String app, Deliveries.Filter filter) {
        return client.send(Request.get("/v1/applications/" + seg(app) + "/deliveries").query(filter.params), Hookrelay.pageOf(Delivery.class));
    }

    public Page<Delivery> deliveries(String app) {
        return deliveries(app, new Deliveries.Filter());
    }

    /** Every delivery of the application, page after page. */
    public PagedIterable<Delivery> deliveriesAll(String app, Deliveries.Filter filter) {
        String path = "/v1/applications/" + seg(app) + "/deliveries";
        return new PagedIterable<>(filter.firstPage(), page -> client.send(Request.get(path).query(filter.forPage(page)), Hookrelay.pageOf(Delivery.class)));
    }

    /** A link to the consumer portal signed in as the application, valid for the deployment's default (1 h). */
    public PortalSession createPortalSession(String app) {
        return client.send(Request.post("/v1/applications/" + seg(app) + "/portal-sessions", Map.of()), PortalSession.class);
    }

    /** A link to the consumer portal signed in as the application, valid for expiresIn (1 minute to 7 days). */
    public PortalSession createPortalSession(String app, Duration expiresIn) {
        return client.send(Request.post("/v1/applications/" + seg(app) + "/portal-sessions", Map.of("expires_in", expiresIn.toSeconds())), PortalSession.class);
    }

    /** Ends a portal session before it expires. */
    public void endPortalSession(String app, String sessionId) {
        client.send(Request.delete("/v1/applications/" + seg(app) + "/portal-sessions/" + seg(sessionId)), Void.class);
    }
}
