package io.github.hookrelay;

import java.util.Map;

/** An application to create ({@link Applications#create}) or to create or update by uid ({@link Applications#upsert}). */
public final class ApplicationIn extends JsonBody<ApplicationIn> {
    public ApplicationIn(String name) {
        put("name", name);
    }

    /** Your own id of the customer; unique (a taken uid is a conflict). Not for upsert, where the path names it. */
    public ApplicationIn uid(String uid) {
        return put("uid", uid);
    }

    public ApplicationIn metadata(Map<String, ?> metadata) {
        return put("metadata", metadata);
    }

    /** A cap over all its webhooks together, per worker process; null for none. */
    public ApplicationIn rateLimitPerS(Integer perSecond) {
        return put("rate_limit_per_s", perSecond);
    }
}
