package io.github.hookrelay;

import java.util.List;

/** One page of a list: its items and where it is in the whole. */
public record Page<T>(List<T> data, Pagination pagination) {
    public record Pagination(int page, int perPage, int total, boolean hasMore) {}
}
