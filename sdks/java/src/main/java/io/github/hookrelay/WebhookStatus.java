package io.github.hookrelay;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum WebhookStatus {
    @JsonProperty("active") ACTIVE,
    @JsonProperty("disabled") DISABLED;

    String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
