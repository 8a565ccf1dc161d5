package io.github.hookrelay;

import static io.github.hookrelay.Hookrelay.seg;

/** The event type catalog, shared by the organization's applications. */
public final class EventTypes {
    private final Hookrelay client;

    EventTypes(Hookrelay client) {
        this.client = client;
    }

    public static final class Filter extends ListFilter<Filter> {
        public Filter includeArchived(boolean include) {
            return set("include_archived", include);
        }
    }

    /** Adds an event type; a name already in the catalog is a conflict. */
    public EventType create(EventTypeIn eventType) {
        return client.send(Request.post("/v1/event-types", eventType), EventType.class);
    }

    public Page<EventType> list(Filter filter) {
        return client.send(Request.get("/v1/event-types").query(filter.params), Hookrelay.pageOf(EventType.class));
    }

    public Page<EventType> list() {
        return list(new Filter());
    }

    public PagedIterable<EventType> listAll(Filter filter) {
        return new PagedIterable<>(filter.firstPage(), page -> client.send(Request.get("/v1/event-types").query(filter.forPage(page)), Hookrelay.pageOf(EventType.class)));
    }

    public PagedIterable<EventType> listAll() {
        return listAll(new Filter());
    }

    public EventType get(String name) {
        return client.send(Request.get("/v1/event-types/" + seg(name)), EventType.class);
    }

    public EventType update(String name, EventTypePatch patch) {
        return client.send(Request.patch("/v1/event-types/" + seg(name), patch), EventType.class);
    }

    /** Archives the type: new publishes and subscriptions are refused, history stays. */
    public void archive(String name) {
        client.send(Request.delete("/v1/event-types/" + seg(name)), Void.class);
    }
}
