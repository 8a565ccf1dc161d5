package io.github.hookrelay;

/** Latency percentiles in milliseconds (upper bounds of histogram buckets); null without data. */
public record Percentiles(Double p50, Double p95, Double p99) {}
