package io.github.hookrelay;

import static io.github.hookrelay.Hookrelay.seg;

import com.fasterxml.jackson.databind.JavaType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/** Publishing events, and reading them back. */
public final class Events {
    private final Hookrelay client;

    Events(Hookrelay client) {
        this.client = client;
    }

    public static final class Filter extends ListFilter<Filter> {
        public Filter type(String type) {
            return set("type", type);
        }

        public Filter application(String application) {
            return set("application", application);
        }

        public Filter since(Instant since) {
            return set("since", since);
        }

        public Filter until(Instant until) {
            return set("until", until);
        }
    }

    /**
     * Publishes an event to the webhooks it matches. An idempotency key (a random UUID) goes with it, so that a
     * retry after a lost answer stores it once.
     */
    public Published publish(EventIn event) {
        return publish(event, UUID.randomUUID().toString());
    }

    /**
     * Publishes with your own idempotency key: the same key within 24 h returns the first answer and publishes
     * nothing, so your own retries (across processes, too) are safe.
     */
    public Published publish(EventIn event, String idempotencyKey) {
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        Request r = Request.post("/v1/events", event).header("Idempotency-Key", idempotencyKey).repeatable(true);
        return client.send(r, Published.class);
    }

    private record Batch(List<Published> data) {}

    /**
     * Publishes up to 500 events, all or nothing. Retried after a network error only when every event has an
     * {@link EventIn#id id}, by which the API recognises what it already stored.
     */
    public List<Published> publishBatch(List<EventIn> events) {
        boolean repeatable = events.stream().allMatch(e -> e.id() != null);
        Request r = Request.post("/v1/events/batch", Map.of("events", events)).repeatable(repeatable);
        return client.send(r, Batch.class).data();
    }

    /** One page of events, newest first. */
    public Page<Event> list(Filter filter) {
        return client.send(Request.get("/v1/events").query(filter.params), Hookrelay.pageOf(Event.class));
    }

    public Page<Event> list() {
        return list(new Filter());
    }

    public PagedIterable<Event> listAll(Filter filter) {
        JavaType type = Hookrelay.pageOf(Event.class);
        return new PagedIterable<>(filter.firstPage(), page -> client.send(Request.get("/v1/events").query(filter.forPage(page)), type));
    }

    /** The event with its deliveries. */
    public Event get(String id) {
        return client.send(Request.get("/v1/events/" + seg(id)), Event.class);
    }

    /**
     * Erases the event's data (erasure on request). The delivery records stay; the event is never sent again.
     * Refused (conflict) while a delivery of it is open.
     */
    public Event erasePayload(String id) {
        return client.send(Request.delete("/v1/events/" + seg(id) + "/payload"), Event.class);
    }
}
