package io.github.hookrelay;

import java.time.Instant;
import java.util.List;

/**
 * An event to publish. data is any object that encodes to a JSON object (a Map, a record, a bean); it is encoded
 * as Jackson does by default, so your own annotations apply.
 */
public final class EventIn extends JsonBody<EventIn> {
    public EventIn(String type, Object data) {
        put("type", type);
        put("data", tree(data));
    }

    /** The application (id or uid) whose webhooks receive it; without one, only organization-level webhooks do. */
    public EventIn application(String application) {
        return put("application", application);
    }

    /** Your id of the event: the same id within 24 h is published once. */
    public EventIn id(String id) {
        return put("id", id);
    }

    String id() {
        return (String) get("id");
    }

    public EventIn channels(List<String> channels) {
        return put("channels", channels);
    }

    public EventIn timestamp(Instant timestamp) {
        return put("timestamp", timestamp);
    }

    /** Send exactly data as the body, instead of the {id, type, timestamp, data} envelope. */
    public EventIn raw(boolean raw) {
        return put("raw", raw);
    }
}
