package io.github.hookrelay;

import static io.github.hookrelay.Hookrelay.seg;

import java.time.Instant;
import java.util.Map;

/** Single deliveries: read one with its attempts, or attempt it again. */
public final class Deliveries {
    private final Hookrelay client;

    Deliveries(Hookrelay client) {
        this.client = client;
    }

    /**
     * Filters of a delivery log. A webhook's log filters the event type with {@link #event}, an application's with
     * {@link #eventType}.
     */
    public static final class Filter extends ListFilter<Filter> {
        public Filter status(DeliveryStatus status) {
            return set("status", status == null ? null : status.wire());
        }

        public Filter event(String eventType) {
            return set("event", eventType);
        }

        public Filter eventType(String eventType) {
            return set("event_type", eventType);
        }

        public Filter since(Instant since) {
            return set("since", since);
        }

        public Filter until(Instant until) {
            return set("until", until);
        }
    }

    /** The delivery with its attempts. */
    public Delivery get(String id) {
        return client.send(Request.get("/v1/deliveries/" + seg(id)), Delivery.class);
    }

    /** Attempts the delivery again now; its attempt count continues. */
    public Delivery retry(String id) {
        return client.send(Request.post("/v1/deliveries/" + seg(id) + "/retry", Map.of()), Delivery.class);
    }
}
