package io.github.hookrelay;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum DeliveryStatus {
    @JsonProperty("pending") PENDING,
    @JsonProperty("delivered") DELIVERED,
    @JsonProperty("failed") FAILED,
    @JsonProperty("paused") PAUSED,
    @JsonProperty("skipped") SKIPPED,
    @JsonProperty("cancelled") CANCELLED;

    String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
