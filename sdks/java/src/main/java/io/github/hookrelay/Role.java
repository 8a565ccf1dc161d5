package io.github.hookrelay;

import com.fasterxml.jackson.annotation.JsonProperty;

/** An API key's role. */
public enum Role {
    /** everything of its organization */
    @JsonProperty("admin") ADMIN,
    /** publish events, read the catalog */
    @JsonProperty("publisher") PUBLISHER,
    /** bound to one application: its webhooks, events, deliveries and stats */
    @JsonProperty("application") APPLICATION
}
