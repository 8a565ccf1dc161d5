package io.github.hookrelay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.util.Map;

/** The examples of README.md, compiled with the tests so that they stay true (not run: they need a real endpoint). */
@SuppressWarnings("unused")
final class ReadmeExamples {
    private ReadmeExamples() {}

    static void firstPublish() {
        Hookrelay hookrelay = Hookrelay.builder()
                .apiKey(System.getenv("HOOKRELAY_API_KEY"))
                .baseUrl("https://hookrelay.example.com")        // your hookrelay API
                .build();

        // The catalog: an event type is created once (a second create is a conflict).
        try {
            hookrelay.eventTypes().create(new EventTypeIn("invoice.paid").description("An invoice was paid"));
        } catch (ApiException e) {
            if (!e.isConflict()) throw e;
        }

        // Your customer, under your own id, and their endpoint. The secret is in this answer only.
        hookrelay.applications().upsert("acme", new ApplicationIn("Acme Corp"));
        Webhook webhook = hookrelay.applications().createWebhook("acme",
                new WebhookIn("https://acme.example.com/hooks").events("invoice.paid"));
        System.out.println("give Acme this secret: " + webhook.secret());

        Published event = hookrelay.events().publish(
                new EventIn("invoice.paid", Map.of("invoice", "A-1", "amount", 4200)).application("acme"));
        System.out.println("published " + event.id() + " to " + event.deliveries() + " webhook(s)");
    }

    static void errorsAndPages(Hookrelay hookrelay, String id) {
        try {
            hookrelay.webhooks().create(new WebhookIn("ftp://nope"));
        } catch (ApiException e) {
            for (ApiException.Detail d : e.details()) System.err.println(d.path() + ": " + d.message() + " (request " + e.requestId() + ")");
        }
        for (Webhook wh : hookrelay.webhooks().listAll(new Webhooks.Filter().status(WebhookStatus.ACTIVE))) {
            System.out.println(wh.id() + " " + wh.url() + " " + wh.healthStatus());
        }
        long failed = hookrelay.webhooks().deliveriesAll(id, new Deliveries.Filter().status(DeliveryStatus.FAILED)).stream().count();
        hookrelay.webhooks().update(id, new WebhookPatch().timeoutMs(5000).filter(null));
    }

    static void receiver(HttpServer server, ObjectMapper mapper) {
        WebhookVerifier verifier = new WebhookVerifier(System.getenv("WEBHOOK_SECRET"), System.getenv("WEBHOOK_PREVIOUS_SECRET"));

        server.createContext("/hooks", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            try {
                verifier.verify(body, exchange.getRequestHeaders());
            } catch (WebhookVerificationException e) {
                exchange.sendResponseHeaders(400, -1);    // e.reason(): NO_MATCHING_SIGNATURE, TIMESTAMP_TOO_OLD, …
                exchange.close();
                return;
            }
            JsonNode event = mapper.readTree(body);       // {"id", "type", "timestamp", "data"}; deduplicate on id
            exchange.sendResponseHeaders(204, -1);        // answer fast, do the work afterwards
            exchange.close();
        });
    }
}
