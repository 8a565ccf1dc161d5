package io.github.hookrelay;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A webhook's health over its latest attempts (see the API reference for the exact rules). */
public enum HealthStatus {
    @JsonProperty("healthy") HEALTHY,
    @JsonProperty("slow") SLOW,
    @JsonProperty("degraded") DEGRADED,
    @JsonProperty("failing") FAILING,
    @JsonProperty("unknown") UNKNOWN
}
