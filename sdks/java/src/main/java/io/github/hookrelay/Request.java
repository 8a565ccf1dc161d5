package io.github.hookrelay;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** One API call, as the services describe it to {@link Hookrelay#send}. */
final class Request {
    final String method;
    final String path;
    final Map<String, String> query = new LinkedHashMap<>();
    final Map<String, String> headers = new LinkedHashMap<>();
    Object body;
    /** A POST that is harmless to send twice (it carries an idempotency key, or ids). */
    boolean repeatable;
    Duration timeout;

    private Request(String method, String path) {
        this.method = method;
        this.path = path;
    }

    static Request get(String path) {
        return new Request("GET", path);
    }

    static Request post(String path, Object body) {
        Request r = new Request("POST", path);
        r.body = body;
        return r;
    }

    static Request put(String path, Object body) {
        Request r = new Request("PUT", path);
        r.body = body;
        return r;
    }

    static Request patch(String path, Object body) {
        Request r = new Request("PATCH", path);
        r.body = body;
        return r;
    }

    static Request delete(String path) {
        return new Request("DELETE", path);
    }

    Request query(Map<String, String> params) {
        query.putAll(params);
        return this;
    }

    Request query(String name, String value) {
        if (value != null) query.put(name, value);
        return this;
    }

    Request header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    Request repeatable(boolean repeatable) {
        this.repeatable = repeatable;
        return this;
    }

    Request timeout(Duration timeout) {
        this.timeout = timeout;
        return this;
    }
}
