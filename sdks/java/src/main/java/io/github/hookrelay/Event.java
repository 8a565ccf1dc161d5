package io.github.hookrelay;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;

/** A published event. data is a JSON null once erased; deliveries is set by get only. */
public record Event(
        String id,
        String applicationId,
        String type,
        Instant timestamp,
        List<String> channels,
        boolean raw,
        JsonNode data,
        Instant createdAt,
        Instant erasedAt,
        List<Delivery> deliveries) {}
