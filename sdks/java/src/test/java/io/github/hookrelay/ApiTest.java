package io.github.hookrelay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.github.hookrelay.WebhookVerificationException.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SDK against a running hookrelay: HOOKRELAY_API_URL and HOOKRELAY_API_KEY (an admin key of an organization of
 * its own). `npm test` starts the stack and runs this (test/integration/sdk-java.test.ts); without the variables
 * these tests are skipped and only the verification tests run.
 */
class ApiTest {
    static String base;
    static String key;
    static Hookrelay hookrelay;
    /** Names the event types of one run, so that the suite can run again against the same organization. */
    static final String RUN = "java" + System.nanoTime();

    @BeforeAll
    static void stack() {
        base = System.getenv("HOOKRELAY_API_URL");
        key = System.getenv("HOOKRELAY_API_KEY");
        Assumptions.assumeTrue(base != null && key != null, "HOOKRELAY_API_URL and HOOKRELAY_API_KEY are not set");
        hookrelay = Hookrelay.builder().apiKey(key).baseUrl(base).build();
    }

    static String eventType(String name) {
        String full = RUN + "." + name;
        hookrelay.eventTypes().create(new EventTypeIn(full));
        return full;
    }

    static void eventually(String what, BooleanSupplier condition) {
        Instant deadline = Instant.now().plusSeconds(30);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) fail(what + ": not in 30 s");
            Hookrelay.sleep(Duration.ofMillis(100));
        }
    }

    // Every operation of the API, and the method of the SDK that calls it ("client" is Hookrelay itself).
    static final Map<String, String> OPERATIONS = Map.ofEntries(
            Map.entry("GET /v1/me", "client.me"),
            Map.entry("POST /v1/applications", "applications.create"),
            Map.entry("GET /v1/applications", "applications.list"),
            Map.entry("PUT /v1/applications/uid/{uid}", "applications.upsert"),
            Map.entry("GET /v1/applications/{app}", "applications.get"),
            Map.entry("PATCH /v1/applications/{app}", "applications.update"),
            Map.entry("DELETE /v1/applications/{app}", "applications.delete"),
            Map.entry("GET /v1/applications/{app}/stats", "applications.stats"),
            Map.entry("GET /v1/applications/{app}/webhooks", "applications.webhooks"),
            Map.entry("POST /v1/applications/{app}/webhooks", "applications.createWebhook"),
            Map.entry("GET /v1/applications/{app}/deliveries", "applications.deliveries"),
            Map.entry("POST /v1/applications/{app}/portal-sessions", "applications.createPortalSession"),
            Map.entry("DELETE /v1/applications/{app}/portal-sessions/{id}", "applications.endPortalSession"),
            Map.entry("POST /v1/keys", "keys.create"),
            Map.entry("GET /v1/keys", "keys.list"),
            Map.entry("GET /v1/keys/{id}", "keys.get"),
            Map.entry("DELETE /v1/keys/{id}", "keys.revoke"),
            Map.entry("POST /v1/event-types", "eventTypes.create"),
            Map.entry("GET /v1/event-types", "eventTypes.list"),
            Map.entry("GET /v1/event-types/{name}", "eventTypes.get"),
            Map.entry("PATCH /v1/event-types/{name}", "eventTypes.update"),
            Map.entry("DELETE /v1/event-types/{name}", "eventTypes.archive"),
            Map.entry("POST /v1/webhooks", "webhooks.create"),
            Map.entry("GET /v1/webhooks", "webhooks.list"),
            Map.entry("PUT /v1/webhooks/uid/{uid}", "webhooks.register"),
            Map.entry("GET /v1/webhooks/{id}", "webhooks.get"),
            Map.entry("PATCH /v1/webhooks/{id}", "webhooks.update"),
            Map.entry("DELETE /v1/webhooks/{id}", "webhooks.delete"),
            Map.entry("POST /v1/webhooks/{id}/rotate-secret", "webhooks.rotateSecret"),
            Map.entry("POST /v1/webhooks/{id}/recover", "webhooks.recover"),
            Map.entry("GET /v1/webhooks/{id}/recoveries/{rcv_id}", "webhooks.getRecovery"),
            Map.entry("POST /v1/webhooks/{id}/test", "webhooks.test"),
            Map.entry("GET /v1/webhooks/{id}/stats", "webhooks.stats"),
            Map.entry("GET /v1/webhooks/{id}/deliveries", "webhooks.deliveries"),
            Map.entry("POST /v1/events", "events.publish"),
            Map.entry("POST /v1/events/batch", "events.publishBatch"),
            Map.entry("GET /v1/events", "events.list"),
            Map.entry("GET /v1/events/{id}", "events.get"),
            Map.entry("DELETE /v1/events/{id}/payload", "events.erasePayload"),
            Map.entry("GET /v1/deliveries/{id}", "deliveries.get"),
            Map.entry("POST /v1/deliveries/{id}/retry", "deliveries.retry"));

    @Test
    void everyOperationOfTheOpenApiDocumentHasAMethod() throws Exception {
        HttpResponse<byte[]> res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/openapi.json")).build(), HttpResponse.BodyHandlers.ofByteArray());
        JsonNode paths = new ObjectMapper().readTree(res.body()).get("paths");
        TreeSet<String> missing = new TreeSet<>();
        int operations = 0;
        for (var path : (Iterable<Map.Entry<String, JsonNode>>) paths::fields) {
            for (var method : (Iterable<String>) path.getValue()::fieldNames) {
                operations++;
                String op = method.toUpperCase() + " " + path.getKey();
                String name = OPERATIONS.get(op);
                if (name == null) {
                    missing.add(op);
                    continue;
                }
                String[] parts = name.split("\\.");
                Class<?> service = parts[0].equals("client") ? Hookrelay.class : Hookrelay.class.getMethod(parts[0]).getReturnType();
                boolean exists = Arrays.stream(service.getMethods()).anyMatch(m -> m.getName().equals(parts[1]) && Modifier.isPublic(m.getModifiers()));
                assertTrue(exists, op + ": " + name + " does not exist");
            }
        }
        assertEquals(List.of(), List.copyOf(missing), "operations of /openapi.json without a method in the Java SDK");
        assertTrue(operations >= 40, "only " + operations + " operations");
    }

    @Test
    void publishDeliverAndVerify() throws Exception {
        try (Receiver rcv = new Receiver()) {
            String type = eventType("hello");
            assertEquals(Role.ADMIN, hookrelay.me().key().role());
            Webhook wh = hookrelay.webhooks().create(new WebhookIn(rcv.url()).events(type));
            assertTrue(wh.secret().startsWith("whsec_"));
            Published ev = hookrelay.events().publish(new EventIn(type, Map.of("n", 1)));
            assertEquals(1, ev.deliveries());

            // The request the worker sent verifies with the webhook's secret, and only with it, and only while fresh.
            Receiver.Received got = rcv.withId(ev.id());
            new WebhookVerifier(wh.secret()).verify(got.body(), got.headers());
            JsonNode body = new ObjectMapper().readTree(got.body());
            assertEquals(ev.id(), body.get("id").asText());
            assertEquals(1, body.at("/data/n").asInt());
            assertEquals(Reason.NO_MATCHING_SIGNATURE, WebhookVerifierTest.reason(new WebhookVerifier(WebhookVerifierTest.OTHER), got.body(), got.headers()));
            WebhookVerifier later = new WebhookVerifier(wh.secret()).withClock(Clock.fixed(Instant.now().plus(Duration.ofMinutes(10)), ZoneOffset.UTC));
            assertEquals(Reason.TIMESTAMP_TOO_OLD, WebhookVerifierTest.reason(later, got.body(), got.headers()));

            // The delivery log.
            List<Delivery> delivered = new ArrayList<>();
            eventually("delivered in the log", () -> {
                delivered.clear();
                delivered.addAll(hookrelay.webhooks().deliveries(wh.id(), new Deliveries.Filter().status(DeliveryStatus.DELIVERED)).data());
                return delivered.size() == 1;
            });
            Delivery d = hookrelay.deliveries().get(delivered.get(0).id());
            assertEquals(1, d.attempts().size());
            assertEquals(200, d.attempts().get(0).statusCode());
            assertEquals(1, hookrelay.events().get(ev.id()).deliveries().size());
            assertEquals(1, hookrelay.webhooks().stats(wh.id()).deliveries().delivered());
            Webhook withSecret = hookrelay.webhooks().get(wh.id(), true);
            assertEquals(wh.secret(), withSecret.secret());
            assertEquals(1, withSecret.recentDeliveries().size());
            assertNull(hookrelay.webhooks().get(wh.id()).secret());
            assertEquals(DeliveryStatus.DELIVERED, hookrelay.webhooks().test(wh.id()).status());
        }
    }

    @Test
    void eventTypesAndWebhooks() throws Exception {
        try (Receiver rcv = new Receiver()) {
            String type = eventType("crud");
            String old = eventType("old");
            EventType et = hookrelay.eventTypes().update(old, new EventTypePatch().description("v2").deprecated(true));
            assertEquals("v2", et.description());
            assertTrue(et.deprecated());
            assertEquals(old, hookrelay.eventTypes().get(old).name());
            List<String> names = hookrelay.eventTypes().listAll(new EventTypes.Filter().perPage(2)).stream().map(EventType::name).toList();
            assertTrue(names.contains(old) && names.contains("webhook.test"), names.toString());
            assertEquals(1, hookrelay.eventTypes().list(new EventTypes.Filter().perPage(1)).pagination().perPage());
            hookrelay.eventTypes().archive(old);
            ApiException archived = assertThrows(ApiException.class, () -> hookrelay.events().publish(new EventIn(old, Map.of())));
            assertEquals(ApiException.UNKNOWN_EVENT_TYPE, archived.code());

            // register: the same uid is one webhook, replaced in place
            String uid = RUN + "-customer";
            Webhook first = hookrelay.webhooks().register(uid, new WebhookIn(rcv.url()).events(type));
            Webhook again = hookrelay.webhooks().register(uid, new WebhookIn(rcv.url()).events(type).description("again"));
            assertEquals(first.id(), again.id());
            assertEquals("again", again.description());
            assertEquals(List.of(first.id()), hookrelay.webhooks().list(new Webhooks.Filter().uid(uid)).data().stream().map(Webhook::id).toList());
            Webhook up = hookrelay.webhooks().update(first.id(), new WebhookPatch().timeoutMs(5000).filter(Map.of("data.n", Map.of("$gte", 0))).rateLimitPerS(50));
            assertEquals(5000, up.timeoutMs());
            assertNotNull(up.filter());
            assertEquals(50, up.rateLimitPerS());
            up = hookrelay.webhooks().update(first.id(), new WebhookPatch().filter(null).rateLimitPerS(null));
            assertNull(up.filter());
            assertNull(up.rateLimitPerS());
            assertEquals(5000, up.timeoutMs());

            // rotation: the next delivery is signed by the new and the previous secret
            String previous = hookrelay.webhooks().get(first.id(), true).secret();
            String current = hookrelay.webhooks().rotateSecret(first.id());
            assertNotEquals(previous, current);
            Delivery d = hookrelay.webhooks().test(first.id(), type, Map.of("rotated", true));
            Receiver.Received got = rcv.withId(d.eventId());
            new WebhookVerifier(current).verify(got.body(), got.headers());
            new WebhookVerifier(previous).verify(got.body(), got.headers());
            new WebhookVerifier(current, previous).verify(got.body(), got.headers());

            int n = rcv.count();
            assertEquals(DeliveryStatus.PENDING, hookrelay.deliveries().retry(d.id()).status());
            rcv.waitFor(n + 1);

            Webhook paused = hookrelay.webhooks().disable(first.id());
            assertEquals(WebhookStatus.DISABLED, paused.status());
            assertEquals("user", paused.disabledReason());
            assertEquals(WebhookStatus.ACTIVE, hookrelay.webhooks().enable(first.id()).status());
            hookrelay.webhooks().delete(first.id());
            assertTrue(assertThrows(ApiException.class, () -> hookrelay.webhooks().get(first.id())).isNotFound());
        }
    }

    @Test
    void applicationsKeysAndPortalSessions() throws Exception {
        try (Receiver rcv = new Receiver()) {
            String type = eventType("app");
            String uid = RUN + "-cust";
            Application app = hookrelay.applications().upsert(uid, new ApplicationIn("Java customer").metadata(Map.of("tier", "gold")));
            Application again = hookrelay.applications().upsert(uid, new ApplicationIn("Java customer 2"));
            assertEquals(app.id(), again.id());
            Application other = hookrelay.applications().create(new ApplicationIn("Java other").uid(uid + "-other"));
            assertTrue(assertThrows(ApiException.class, () -> hookrelay.applications().create(new ApplicationIn("taken").uid(uid))).isConflict());
            Application renamed = hookrelay.applications().update(other.id(), new ApplicationPatch().name("Java renamed").rateLimitPerS(10));
            assertEquals("Java renamed", renamed.name());
            assertEquals(10, renamed.rateLimitPerS());
            Application got = hookrelay.applications().get(uid);
            assertEquals(app.id(), got.id());
            assertEquals("gold", got.metadata().get("tier"));
            assertEquals(1, hookrelay.applications().list(new Applications.Filter().uid(uid)).data().size());
            long count = hookrelay.applications().listAll(new Applications.Filter().nameContains("Java ").perPage(1)).stream().count();
            assertTrue(count >= 2, "listAll: " + count);

            Webhook wh = hookrelay.applications().createWebhook(uid, new WebhookIn(rcv.url()).events(type));
            assertEquals(app.id(), wh.applicationId());
            assertEquals(1, hookrelay.events().publish(new EventIn(type, Map.of("n", 7)).application(uid)).deliveries());
            eventually("delivered to the application", () -> hookrelay.applications().deliveriesAll(uid, new Deliveries.Filter().eventType(type)).stream()
                    .anyMatch(x -> x.status() == DeliveryStatus.DELIVERED));
            assertEquals(List.of(wh.id()), hookrelay.applications().webhooks(app.id()).data().stream().map(Webhook::id).toList());
            assertEquals(1, hookrelay.applications().stats(uid).webhooks().size());
            assertEquals(1, hookrelay.applications().deliveries(uid).pagination().total());

            // An application key sees only its application, and may not manage keys.
            ApiKey created = hookrelay.keys().create(new ApiKeyIn(Role.APPLICATION).application(uid).name("java"));
            Hookrelay scoped = Hookrelay.builder().apiKey(created.key()).baseUrl(base).build();
            assertEquals(Role.APPLICATION, scoped.me().key().role());
            assertEquals(app.id(), scoped.me().key().applicationId());
            assertEquals(List.of(wh.id()), scoped.webhooks().list().data().stream().map(Webhook::id).toList());
            ApiException forbidden = assertThrows(ApiException.class, () -> scoped.keys().list());
            assertEquals(403, forbidden.statusCode());
            assertEquals(ApiException.FORBIDDEN, forbidden.code());
            assertTrue(forbidden.requestId().startsWith("req_"), forbidden.requestId());
            ApiKey read = hookrelay.keys().get(created.id());
            assertEquals(Role.APPLICATION, read.role());
            assertNull(read.key());
            assertTrue(hookrelay.keys().listAll().stream().anyMatch(k -> k.id().equals(created.id())));

            PortalSession portal = hookrelay.applications().createPortalSession(uid, Duration.ofMinutes(10));
            assertTrue(portal.url().contains("/portal#token=hrk_"), portal.url());
            assertTrue(portal.expiresAt().isBefore(Instant.now().plus(Duration.ofMinutes(11))));
            assertEquals(app.id(), Hookrelay.builder().apiKey(portal.token()).baseUrl(base).build().me().key().applicationId());
            hookrelay.applications().endPortalSession(uid, portal.id());
            hookrelay.keys().revoke(created.id());
            List<String> keys = hookrelay.keys().list(new ListFilter.Pages().perPage(100)).data().stream().map(ApiKey::id).toList();
            assertFalse(keys.contains(created.id()) || keys.contains(portal.id()), "a revoked key or ended portal session is still listed");
            hookrelay.applications().delete(uid);
            hookrelay.applications().delete(other.id());
            assertTrue(assertThrows(ApiException.class, () -> hookrelay.applications().get(app.id())).isNotFound());
        }
    }

    @Test
    void recoverReportsProgress() {
        try (Receiver rcv = new Receiver()) {
            rcv.status = 500;
            String type = eventType("recover");
            // A single attempt (an empty retry schedule): the delivery fails at once.
            Webhook wh = hookrelay.webhooks().create(new WebhookIn(rcv.url()).events(type).retrySchedule(List.of()));
            Instant since = Instant.now().minusSeconds(1);
            hookrelay.events().publish(new EventIn(type, Map.of()));
            eventually("the delivery failed", () -> hookrelay.webhooks().deliveries(wh.id(), new Deliveries.Filter().status(DeliveryStatus.FAILED)).data().size() == 1);
            rcv.status = 200;
            Recovery started = hookrelay.webhooks().recover(wh.id(), since);
            List<String> seen = new ArrayList<>();
            Recovery done = hookrelay.webhooks().waitForRecovery(wh.id(), started.id(), Duration.ofMinutes(1), r -> seen.add(r.status()));
            assertTrue(done.isCompleted());
            assertEquals(1, done.recovered());
            assertEquals("completed", seen.get(seen.size() - 1));
            List<Receiver.Received> got = rcv.waitFor(2);
            assertEquals(got.get(0).header("webhook-id"), got.get(1).header("webhook-id"));
        }
    }

    @Test
    void typedErrors() {
        ApiException missing = assertThrows(ApiException.class, () -> hookrelay.webhooks().get("wh_missing"));
        assertEquals(404, missing.statusCode());
        assertEquals(ApiException.NOT_FOUND, missing.code());
        assertTrue(missing.requestId().startsWith("req_"));
        ApiException unknown = assertThrows(ApiException.class, () -> hookrelay.events().publish(new EventIn("nope", Map.of())));
        assertEquals(ApiException.UNKNOWN_EVENT_TYPE, unknown.code());
        assertEquals(400, unknown.statusCode());
        assertEquals("type", unknown.details().get(0).path());
        ApiException wrongKey = assertThrows(ApiException.class, () -> Hookrelay.builder().apiKey("hrk_wrong").baseUrl(base).build().me());
        assertEquals(ApiException.UNAUTHENTICATED, wrongKey.code());
        assertThrows(IllegalArgumentException.class, () -> Hookrelay.builder().apiKey("").build());
    }

    @Test
    void pagination() {
        try (Receiver rcv = new Receiver()) {
            String type = eventType("pages");
            for (int i = 0; i < 5; i++) hookrelay.webhooks().create(new WebhookIn(rcv.url()).events(type).description("page-" + i));
            Page<Webhook> first = hookrelay.webhooks().list(new Webhooks.Filter().event(type).perPage(2));
            assertEquals(2, first.data().size());
            assertTrue(first.pagination().hasMore());
            assertEquals(5, first.pagination().total());
            assertEquals(5, hookrelay.webhooks().listAll(new Webhooks.Filter().event(type).perPage(2)).stream().map(Webhook::id).distinct().count());
            for (int i = 0; i < 3; i++) hookrelay.events().publish(new EventIn(type, Map.of("i", i)));
            PagedIterable<Event> events = hookrelay.events().listAll(new Events.Filter().type(type).perPage(1));
            assertEquals(3, StreamSupport.stream(events.spliterator(), false).count());
            String wh = first.data().get(0).id();
            eventually("three deliveries", () -> hookrelay.webhooks().deliveriesAll(wh, new Deliveries.Filter().perPage(1)).stream().count() == 3);
        }
    }

    /** A server in front of the real API: answer handles the n-th request (from 0), or returns false to pass it on. */
    interface Answer {
        boolean handle(int n, HttpExchange exchange) throws IOException;
    }

    static final class Proxy implements AutoCloseable {
        final HttpServer server;
        final AtomicInteger calls = new AtomicInteger();
        final List<String> idempotencyKeys = Collections.synchronizedList(new ArrayList<>());
        static final HttpClient FORWARD = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        Proxy(Answer answer) {
            try {
                server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            server.createContext("/", exchange -> {
                idempotencyKeys.add(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
                if (!answer.handle(calls.getAndIncrement(), exchange)) {
                    HttpResponse<byte[]> res = forward(exchange);
                    res.headers().firstValue("content-type").ifPresent(v -> exchange.getResponseHeaders().set("Content-Type", v));
                    exchange.sendResponseHeaders(res.statusCode(), res.body().length == 0 ? -1 : res.body().length);
                    exchange.getResponseBody().write(res.body());
                    exchange.close();
                }
            });
            server.start();
        }

        static HttpResponse<byte[]> forward(HttpExchange exchange) throws IOException {
            byte[] body = exchange.getRequestBody().readAllBytes();
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + exchange.getRequestURI()))
                    .method(exchange.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            for (String h : List.of("Authorization", "Content-Type", "Idempotency-Key")) {
                String v = exchange.getRequestHeaders().getFirst(h);
                if (v != null) req.header(h, v);
            }
            try {
                return FORWARD.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }

        /** Ends the exchange without an answer: the client sees the connection closed. */
        static void hangUp(HttpExchange exchange) {
            exchange.close();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    @Test
    void retriesHonourRetryAfter() {
        try (Proxy proxy = new Proxy((n, exchange) -> {
            if (n == 0) {
                exchange.getResponseHeaders().set("Retry-After", "1");
                exchange.sendResponseHeaders(429, -1);
            } else if (n == 1) {
                exchange.sendResponseHeaders(503, -1);
            } else {
                return false;
            }
            exchange.close();
            return true;
        })) {
            long started = System.nanoTime();
            assertNotNull(Hookrelay.builder().apiKey(key).baseUrl(proxy.url()).build().me().organization().id());
            assertEquals(3, proxy.calls.get());
            assertTrue(Duration.ofNanos(System.nanoTime() - started).toMillis() >= 1000);
        }
        // Retries spent: the last answer is the error.
        try (Proxy limited = new Proxy((n, exchange) -> {
            byte[] body = "{\"error\":{\"code\":\"rate_limited\",\"message\":\"slow down\",\"details\":[]},\"request_id\":\"req_test\"}".getBytes();
            exchange.getResponseHeaders().set("Retry-After", "0");
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(429, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
            return true;
        })) {
            ApiException e = assertThrows(ApiException.class, () -> Hookrelay.builder().apiKey(key).baseUrl(limited.url()).maxRetries(1).build().me());
            assertEquals(ApiException.RATE_LIMITED, e.code());
            assertEquals("req_test", e.requestId());
            assertEquals(2, limited.calls.get());
        }
    }

    @Test
    void publishIsIdempotent() {
        String type = eventType("lost");
        // The first publish reaches the API, but its answer is lost: the retry carries the same idempotency key.
        try (Proxy lossy = new Proxy((n, exchange) -> {
            if (n > 0) return false;
            Proxy.forward(exchange); // applied…
            Proxy.hangUp(exchange); // …and the answer never arrives
            return true;
        })) {
            Published ev = Hookrelay.builder().apiKey(key).baseUrl(lossy.url()).build().events().publish(new EventIn(type, Map.of("once", true)));
            assertEquals(2, lossy.calls.get());
            assertNotNull(lossy.idempotencyKeys.get(0));
            assertEquals(lossy.idempotencyKeys.get(0), lossy.idempotencyKeys.get(1));
            Page<Event> stored = hookrelay.events().list(new Events.Filter().type(type));
            assertEquals(1, stored.pagination().total());
            assertEquals(ev.id(), stored.data().get(0).id());
        }
        Published a = hookrelay.events().publish(new EventIn(type, Map.of()), RUN + "-once");
        Published b = hookrelay.events().publish(new EventIn(type, Map.of()), RUN + "-once");
        assertEquals(a.id(), b.id());
        List<Published> batch = hookrelay.events().publishBatch(List.of(new EventIn(type, Map.of("i", 1)).id(RUN + "-b1"), new EventIn(type, Map.of("i", 2)).id(RUN + "-b2")));
        List<Published> again = hookrelay.events().publishBatch(List.of(new EventIn(type, Map.of("i", 1)).id(RUN + "-b1")));
        assertEquals(2, batch.size());
        assertEquals(batch.get(0).id(), again.get(0).id());

        // An event no webhook matched has no open delivery: its payload can be erased.
        Event erased = hookrelay.events().erasePayload(a.id());
        assertNotNull(erased.erasedAt());
        assertTrue(erased.data() == null || erased.data().isNull());
    }

    @Test
    void ambiguousPostsAreNotRepeated() {
        try (Proxy broken = new Proxy((n, exchange) -> {
            Proxy.hangUp(exchange);
            return true;
        })) {
            HookrelayException e = assertThrows(HookrelayException.class, () -> Hookrelay.builder().apiKey(key).baseUrl(broken.url()).build().webhooks().rotateSecret("wh_1"));
            assertFalse(e instanceof ApiException);
            assertInstanceOf(IOException.class, e.getCause());
            assertEquals(1, broken.calls.get());
        }
        // A DELETE that went through but whose answer was lost sees 404 on the retry: it is done.
        try (Proxy deletes = new Proxy((n, exchange) -> {
            if (n > 0) return false;
            Proxy.hangUp(exchange);
            return true;
        })) {
            Hookrelay.builder().apiKey(key).baseUrl(deletes.url()).build().webhooks().delete("wh_gone");
            assertEquals(2, deletes.calls.get());
        }
    }
}
