package io.github.hookrelay;

import java.util.Map;

/** Changes to an application: only the fields set here change. */
public final class ApplicationPatch extends JsonBody<ApplicationPatch> {
    public ApplicationPatch name(String name) {
        return put("name", name);
    }

    /** null removes the uid. */
    public ApplicationPatch uid(String uid) {
        return put("uid", uid);
    }

    public ApplicationPatch metadata(Map<String, ?> metadata) {
        return put("metadata", metadata);
    }

    /** null removes the cap. */
    public ApplicationPatch rateLimitPerS(Integer perSecond) {
        return put("rate_limit_per_s", perSecond);
    }
}
