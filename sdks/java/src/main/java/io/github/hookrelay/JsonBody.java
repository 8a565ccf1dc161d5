package io.github.hookrelay;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request body built field by field: a field never set is left out, and one set to null is sent as null (in
 * a partial update, null clears a field: no filter, the default rate limit, …).
 */
abstract class JsonBody<B extends JsonBody<B>> {
    /** Your own objects (event data, test data) are encoded as Jackson does by default, your annotations included. */
    private static final ObjectMapper PLAIN = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();

    private final Map<String, Object> fields = new LinkedHashMap<>();

    @SuppressWarnings("unchecked")
    B put(String name, Object value) {
        fields.put(name, value);
        return (B) this;
    }

    static JsonNode tree(Object value) {
        return PLAIN.valueToTree(value);
    }

    Object get(String name) {
        return fields.get(name);
    }

    @JsonValue
    Map<String, Object> fields() {
        return Collections.unmodifiableMap(fields);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + fields;
    }
}
