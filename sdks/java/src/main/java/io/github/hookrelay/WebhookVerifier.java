package io.github.hookrelay;

import io.github.hookrelay.WebhookVerificationException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks the Standard Webhooks signature of what hookrelay delivers, on the receiving end.
 *
 * <p>Give it the webhook's secret and, during a rotation, the previous one too: a request signed by either is
 * accepted (while a rotated secret is valid, hookrelay signs with both). A request whose timestamp is further
 * from now than the tolerance (5 minutes) is rejected, so a captured request cannot be replayed later.
 *
 * <pre>{@code
 * WebhookVerifier verifier = new WebhookVerifier(System.getenv("WEBHOOK_SECRET"), System.getenv("WEBHOOK_PREVIOUS_SECRET"));
 * verifier.verify(rawBody, exchange.getRequestHeaders()); // throws WebhookVerificationException
 * }</pre>
 *
 * Instances are immutable and thread-safe.
 */
public final class WebhookVerifier {
    public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);

    private final List<byte[]> keys;
    private final Duration tolerance;
    private final Clock clock;

    /** Accepts signatures by any of the secrets (whsec_…); null and empty ones are skipped. */
    public WebhookVerifier(String... secrets) {
        this(keys(secrets), DEFAULT_TOLERANCE, Clock.systemUTC());
    }

    private WebhookVerifier(List<byte[]> keys, Duration tolerance, Clock clock) {
        this.keys = keys;
        this.tolerance = tolerance;
        this.clock = clock;
    }

    private static List<byte[]> keys(String... secrets) {
        List<byte[]> keys = new ArrayList<>();
        for (String s : secrets) if (s != null && !s.isEmpty()) keys.add(secretKey(s));
        if (keys.isEmpty()) throw new IllegalArgumentException("WebhookVerifier: at least one secret is required");
        return List.copyOf(keys);
    }

    /** A verifier with another timestamp tolerance. */
    public WebhookVerifier withTolerance(Duration tolerance) {
        return new WebhookVerifier(keys, Objects.requireNonNull(tolerance), clock);
    }

    /** A verifier reading the time from clock (for tests). */
    public WebhookVerifier withClock(Clock clock) {
        return new WebhookVerifier(keys, tolerance, Objects.requireNonNull(clock));
    }

    /**
     * Verifies a request given its raw body and its headers, as a map of names to values (names in any case: the
     * headers of com.sun.net.httpserver, of java.net.http, Spring's HttpHeaders, …).
     */
    public void verify(byte[] payload, Map<String, ? extends List<String>> headers) throws WebhookVerificationException {
        verify(payload, header(headers, "webhook-id"), header(headers, "webhook-timestamp"), header(headers, "webhook-signature"));
    }

    /** Verifies a request given its raw body and its webhook-id, webhook-timestamp and webhook-signature headers. */
    public void verify(byte[] payload, String msgId, String timestamp, String signature) throws WebhookVerificationException {
        if (isEmpty(msgId) || isEmpty(timestamp) || isEmpty(signature)) {
            throw new WebhookVerificationException(Reason.MISSING_HEADERS, "missing webhook-id, webhook-timestamp or webhook-signature header");
        }
        long sent;
        try {
            sent = Long.parseLong(timestamp.strip());
        } catch (NumberFormatException e) {
            throw new WebhookVerificationException(Reason.INVALID_TIMESTAMP, "invalid webhook-timestamp");
        }
        long now = clock.instant().getEpochSecond();
        if (now - sent > tolerance.toSeconds()) throw new WebhookVerificationException(Reason.TIMESTAMP_TOO_OLD, "webhook-timestamp is too old");
        if (sent - now > tolerance.toSeconds()) throw new WebhookVerificationException(Reason.TIMESTAMP_TOO_NEW, "webhook-timestamp is in the future");
        for (byte[] key : keys) {
            byte[] expected = mac(key, msgId, sent, payload);
            for (String candidate : signature.trim().split(" +")) {
                int comma = candidate.indexOf(',');
                if (comma < 0 || !candidate.substring(0, comma).equals("v1")) continue;
                byte[] given;
                try {
                    given = Base64.getDecoder().decode(candidate.substring(comma + 1));
                } catch (IllegalArgumentException e) {
                    continue;
                }
                if (MessageDigest.isEqual(given, expected)) return;
            }
        }
        throw new WebhookVerificationException(Reason.NO_MATCHING_SIGNATURE, "no matching signature");
    }

    /** The webhook-signature value hookrelay sends for a message, "v1,&lt;base64 HMAC-SHA256&gt;": for tests of your receiver. */
    public static String sign(String secret, String msgId, long timestampSeconds, byte[] payload) {
        return "v1," + Base64.getEncoder().encodeToString(mac(secretKey(secret), msgId, timestampSeconds, payload));
    }

    private static byte[] mac(byte[] key, String msgId, long timestamp, byte[] payload) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((msgId + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return mac.doFinal(payload);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /** The HMAC key of a secret: the base64 part of whsec_…, or the bytes of a secret of your own. */
    private static byte[] secretKey(String secret) {
        if (secret.startsWith("whsec_")) {
            try {
                byte[] key = Base64.getDecoder().decode(secret.substring(6));
                if (key.length > 0) return key;
            } catch (IllegalArgumentException e) {
                // not base64: a secret of your own that happens to start like ours
            }
        }
        return secret.getBytes(StandardCharsets.UTF_8);
    }

    private static String header(Map<String, ? extends List<String>> headers, String name) {
        for (Map.Entry<String, ? extends List<String>> e : headers.entrySet()) {
            if (e.getKey() != null && e.getKey().equalsIgnoreCase(name) && e.getValue() != null && !e.getValue().isEmpty()) return e.getValue().get(0);
        }
        return null;
    }

    private static boolean isEmpty(String s) {
        return s == null || s.isBlank();
    }
}
