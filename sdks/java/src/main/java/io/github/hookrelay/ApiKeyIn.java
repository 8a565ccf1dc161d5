package io.github.hookrelay;

import java.time.Instant;

/** An API key to create. */
public final class ApiKeyIn extends JsonBody<ApiKeyIn> {
    public ApiKeyIn(Role role) {
        put("role", role);
    }

    /** The application (id or uid) an {@link Role#APPLICATION} key is bound to: required for that role, refused for others. */
    public ApiKeyIn application(String application) {
        return put("application", application);
    }

    public ApiKeyIn name(String name) {
        return put("name", name);
    }

    public ApiKeyIn expiresAt(Instant expiresAt) {
        return put("expires_at", expiresAt);
    }
}
