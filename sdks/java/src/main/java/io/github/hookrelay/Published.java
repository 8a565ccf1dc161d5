package io.github.hookrelay;

import java.time.Instant;

/** The answer to a publish: deliveries is the number of webhooks the event matched. */
public record Published(String id, String type, Instant timestamp, int deliveries) {}
