package io.github.hookrelay;

import java.util.LinkedHashMap;
import java.util.Map;

/** The query of a list: which page, how many per page (at most 100), and the list's own filters. */
public abstract class ListFilter<F extends ListFilter<F>> {
    final Map<String, String> params = new LinkedHashMap<>();

    @SuppressWarnings("unchecked")
    F self() {
        return (F) this;
    }

    F set(String name, Object value) {
        if (value == null) params.remove(name);
        else params.put(name, String.valueOf(value)); // an Instant as ISO-8601 in UTC, e.g. 2026-01-01T10:00:00Z
        return self();
    }

    public F page(int page) {
        return set("page", page);
    }

    public F perPage(int perPage) {
        return set("per_page", perPage);
    }

    /** The query with page and per_page as given, else page 1 and 100 per page: for listAll. */
    Map<String, String> forPage(int page) {
        Map<String, String> q = new LinkedHashMap<>(params);
        q.putIfAbsent("per_page", "100");
        q.put("page", String.valueOf(page));
        return q;
    }

    int firstPage() {
        return Integer.parseInt(params.getOrDefault("page", "1"));
    }

    /** A filter with nothing but page and per_page: for lists without filters of their own. */
    public static final class Pages extends ListFilter<Pages> {}
}
