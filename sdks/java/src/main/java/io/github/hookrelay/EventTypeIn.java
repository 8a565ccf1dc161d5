package io.github.hookrelay;

import java.util.Map;

/** An event type to add to the catalog. */
public final class EventTypeIn extends JsonBody<EventTypeIn> {
    /** name: e.g. invoice.paid (letters, digits, _, separated by . or -). */
    public EventTypeIn(String name) {
        put("name", name);
    }

    public EventTypeIn description(String description) {
        return put("description", description);
    }

    /** A JSON Schema the data of published events is validated against. */
    public EventTypeIn schema(Map<String, ?> schema) {
        return put("schema", schema);
    }

    public EventTypeIn deprecated(boolean deprecated) {
        return put("deprecated", deprecated);
    }

    public EventTypeIn replacedBy(String eventType) {
        return put("replaced_by", eventType);
    }
}
