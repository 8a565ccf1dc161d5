package io.github.hookrelay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

/**
 * The client of the hookrelay API. Thread-safe; build one and share it.
 *
 * <pre>{@code
 * Hookrelay hookrelay = Hookrelay.builder()
 *     .apiKey(System.getenv("HOOKRELAY_API_KEY"))
 *     .baseUrl("https://hookrelay.example.com")
 *     .build();
 * Published ev = hookrelay.events().publish(new EventIn("invoice.paid", Map.of("invoice", "A-1")).application("acme"));
 * }</pre>
 *
 * <p>Answers 429 and 503 are retried, honouring {@code Retry-After}: the API guarantees such a request had no
 * effect. A network error, 502 or 504 leaves it open whether the request was applied, so it is retried only when
 * repeating is harmless: reads, PUT, PATCH, DELETE and publishes (which carry an idempotency key). Retrying
 * rotate-secret blindly, say, could rotate twice and drop the secret receivers still hold.
 */
public final class Hookrelay {
    /** The API of {@code npm start} on the same machine. */
    public static final String DEFAULT_BASE_URL = "http://127.0.0.1:3000";
    public static final String VERSION = "0.1.0";

    static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .addModule(new JavaTimeModule())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_AS_NULL)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();

    private final String apiKey;
    private final String baseUrl;
    private final HttpClient http;
    private final int maxRetries;
    private final Duration timeout;
    private final Duration maxRetryWait;

    private final Applications applications = new Applications(this);
    private final EventTypes eventTypes = new EventTypes(this);
    private final Webhooks webhooks = new Webhooks(this);
    private final Events events = new Events(this);
    private final Deliveries deliveries = new Deliveries(this);
    private final Keys keys = new Keys(this);

    private Hookrelay(Builder b) {
        if (b.apiKey == null || b.apiKey.isEmpty()) {
            // An unset environment variable is the usual cause: say so here rather than with a 401 later.
            throw new IllegalArgumentException("Hookrelay: an API key is required");
        }
        this.apiKey = b.apiKey;
        this.baseUrl = b.baseUrl.replaceAll("/+$", "");
        this.http = b.httpClient != null ? b.httpClient : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        this.maxRetries = b.maxRetries;
        this.timeout = b.timeout;
        this.maxRetryWait = b.maxRetryWait;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Configures a client; only the API key is required. */
    public static final class Builder {
        private String apiKey;
        private String baseUrl = DEFAULT_BASE_URL;
        private HttpClient httpClient;
        private int maxRetries = 3;
        private Duration timeout = Duration.ofSeconds(30);
        private Duration maxRetryWait = Duration.ofSeconds(60);

        private Builder() {}

        /** An API key, {@code hrk_…}. */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** The API's address (default {@link #DEFAULT_BASE_URL}). */
        public Builder baseUrl(String baseUrl) {
            this.baseUrl = Objects.requireNonNull(baseUrl);
            return this;
        }

        /** The HttpClient requests go through (default: a new one with a 10 s connect timeout). */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = httpClient;
            return this;
        }

        /** How many times a request is retried (default 3; 0 disables retries). */
        public Builder maxRetries(int maxRetries) {
            this.maxRetries = maxRetries;
            return this;
        }

        /** How long one try of a request may take (default 30 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** The longest wait before a retry, Retry-After included (default 60 s). */
        public Builder maxRetryWait(Duration maxRetryWait) {
            this.maxRetryWait = Objects.requireNonNull(maxRetryWait);
            return this;
        }

        public Hookrelay build() {
            return new Hookrelay(this);
        }
    }

    /** Your customers, with their webhooks, deliveries, stats and portal sessions. */
    public Applications applications() {
        return applications;
    }

    /** The event type catalog. */
    public EventTypes eventTypes() {
        return eventTypes;
    }

    public Webhooks webhooks() {
        return webhooks;
    }

    public Events events() {
        return events;
    }

    public Deliveries deliveries() {
        return deliveries;
    }

    /** API keys (admin keys only). */
    public Keys keys() {
        return keys;
    }

    /** The organization and the key behind this client. */
    public Me me() {
        return send(Request.get("/v1/me"), Me.class);
    }

    // ---- the one way to the API ----

    static JavaType pageOf(Class<?> item) {
        return JSON.getTypeFactory().constructParametricType(Page.class, item);
    }

    <T> T send(Request r, Class<T> type) {
        return send(r, JSON.constructType(type));
    }

    <T> T send(Request r, JavaType type) {
        byte[] payload = null;
        if (r.body != null) {
            try {
                payload = JSON.writeValueAsBytes(r.body);
            } catch (JsonProcessingException e) {
                throw new HookrelayException("hookrelay: cannot encode the request body: " + e.getOriginalMessage(), e);
            }
        }
        URI uri = URI.create(baseUrl + r.path + queryString(r.query));
        boolean repeatable = !r.method.equals("POST") || r.repeatable;
        boolean ambiguous = false; // an earlier try may have been applied
        for (int attempt = 0; ; attempt++) {
            boolean canRetry = attempt < maxRetries;
            HttpRequest.Builder req = HttpRequest.newBuilder(uri)
                    .timeout(r.timeout != null ? max(r.timeout, timeout) : timeout)
                    .header("Authorization", "Bearer " + apiKey)
                    .header("Accept", "application/json")
                    .header("User-Agent", "hookrelay-java/" + VERSION)
                    .method(r.method, payload == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(payload));
            if (payload != null) req.header("Content-Type", "application/json");
            r.headers.forEach(req::header);

            HttpResponse<byte[]> res;
            try {
                res = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                if (canRetry && repeatable) {
                    ambiguous = true;
                    sleep(backoff(attempt));
                    continue;
                }
                throw new HookrelayException("hookrelay: " + r.method + " " + r.path + ": cannot reach " + baseUrl + ": " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HookrelayException("hookrelay: interrupted", e);
            }
            int status = res.statusCode();
            boolean gateway = status == 502 || status == 504;
            if (canRetry && (status == 429 || status == 503 || (repeatable && gateway))) {
                ambiguous |= gateway;
                Duration wait = retryAfter(res.headers().firstValue("Retry-After").orElse(null));
                sleep(min(wait != null ? wait : backoff(attempt), maxRetryWait));
                continue;
            }
            // A DELETE whose first try went through but whose answer was lost sees 404 on the retry: it is done.
            if (r.method.equals("DELETE") && status == 404 && ambiguous) return null;
            String requestId = res.headers().firstValue("X-Request-Id").orElse(null);
            if (status >= 300) throw apiException(status, res.body(), requestId);
            if (status == 204 || res.body().length == 0 || type.hasRawClass(Void.class)) return null;
            try {
                return JSON.readValue(res.body(), type);
            } catch (IOException e) {
                throw new HookrelayException("hookrelay: " + r.method + " " + r.path + ": the answer is not the expected JSON (request " + requestId + ")", e);
            }
        }
    }

    private static ApiException apiException(int status, byte[] body, String requestId) {
        try {
            JsonNode root = JSON.readTree(body);
            JsonNode error = root == null ? null : root.get("error");
            if (error != null && error.isObject()) {
                List<ApiException.Detail> details = new ArrayList<>();
                for (JsonNode d : error.path("details")) details.add(new ApiException.Detail(d.path("path").asText(), d.path("message").asText()));
                String id = root.path("request_id").asText(null);
                return new ApiException(status, error.path("code").asText(ApiException.HTTP_ERROR), error.path("message").asText(""), id != null ? id : requestId, details);
            }
        } catch (IOException e) {
            // not JSON, e.g. an HTML error page of a proxy in front of the API
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        String message = "HTTP " + status + (text.isEmpty() ? "" : ": " + (text.length() > 200 ? text.substring(0, 200) + "…" : text));
        return new ApiException(status, ApiException.HTTP_ERROR, message, requestId, List.of());
    }

    /** Retry-After: delay-seconds or an HTTP date; null when absent or unreadable. */
    static Duration retryAfter(String value) {
        if (value == null || value.isBlank()) return null;
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(value.strip())));
        } catch (NumberFormatException e) {
            try {
                Duration d = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME));
                return d.isNegative() ? Duration.ZERO : d;
            } catch (RuntimeException ignored) {
                return null;
            }
        }
    }

    /** Exponential from 250 ms, capped at 10 s, with jitter (half to all of it). */
    private static Duration backoff(int attempt) {
        long ms = Math.min(10_000L, 250L << Math.min(attempt, 10));
        return Duration.ofMillis(ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1));
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HookrelayException("hookrelay: interrupted", e);
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static String queryString(Map<String, String> query) {
        if (query.isEmpty()) return "";
        return "?" + query.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue())).collect(Collectors.joining("&"));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** One path segment, encoded. */
    static String seg(String s) {
        return enc(Objects.requireNonNull(s, "an id or name is required"));
    }
}
