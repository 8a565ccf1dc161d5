package io.github.hookrelay;

import java.util.Map;

/** Changes to an event type: only the fields set here change. */
public final class EventTypePatch extends JsonBody<EventTypePatch> {
    public EventTypePatch description(String description) {
        return put("description", description);
    }

    /** null removes the schema. */
    public EventTypePatch schema(Map<String, ?> schema) {
        return put("schema", schema);
    }

    public EventTypePatch deprecated(boolean deprecated) {
        return put("deprecated", deprecated);
    }

    public EventTypePatch replacedBy(String eventType) {
        return put("replaced_by", eventType);
    }
}
