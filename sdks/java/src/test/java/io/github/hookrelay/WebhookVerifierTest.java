package io.github.hookrelay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.hookrelay.WebhookVerificationException.Reason;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WebhookVerifierTest {
    // A message signed by the worker's own signing code (src/domain/signature.ts), for a fixed secret and time.
    static final String SECRET = "whsec_aG9va3JlbGF5LWdvLWFuZC1qYXZhLXRlc3Qtc2VjcmV0IQ==";
    static final byte[] BODY = "{\"id\":\"evt_1\",\"type\":\"case.complete\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"n\":1}}".getBytes(StandardCharsets.UTF_8);
    static final String SIGNATURE = "v1,DB89LK12eQTkP5h123GQmFoZiV6p4AmxoNX8oA/WMKY=";
    static final long SENT = 1767225600L;
    static final String OTHER = "whsec_c29tZWJvZHktZWxzZXMtc2VjcmV0LTEyMzQ1Ng==";

    static WebhookVerifier at(long epochSecond, String... secrets) {
        return new WebhookVerifier(secrets).withClock(Clock.fixed(Instant.ofEpochSecond(epochSecond), ZoneOffset.UTC));
    }

    static Map<String, List<String>> headers(String signature) {
        return Map.of("Webhook-Id", List.of("evt_1"), "Webhook-Timestamp", List.of(String.valueOf(SENT)), "Webhook-Signature", List.of(signature));
    }

    @Test
    void acceptsTheServersSignature() throws Exception {
        at(SENT, SECRET).verify(BODY, headers(SIGNATURE));
        assertEquals(SIGNATURE, WebhookVerifier.sign(SECRET, "evt_1", SENT, BODY));
    }

    @Test
    void acceptsTheCurrentAndThePreviousSecret() throws Exception {
        String current = "whsec_bmV3LXNlY3JldC1hZnRlci10aGUtcm90YXRpb24h";
        String both = WebhookVerifier.sign(current, "evt_1", SENT, BODY) + " " + SIGNATURE;
        at(SENT, current).verify(BODY, headers(both));
        at(SENT, SECRET).verify(BODY, headers(both));
        // A receiver that has the new secret and keeps the previous one accepts a request signed by the previous only.
        at(SENT, current, SECRET).verify(BODY, headers(SIGNATURE));
        at(SENT, current, null, "").verify(BODY, headers(both));
    }

    @Test
    void rejects() {
        assertEquals(Reason.NO_MATCHING_SIGNATURE, reason(at(SENT, OTHER), BODY, headers(SIGNATURE)));
        assertEquals(Reason.NO_MATCHING_SIGNATURE, reason(at(SENT, SECRET), "{}".getBytes(StandardCharsets.UTF_8), headers(SIGNATURE)));
        assertEquals(Reason.TIMESTAMP_TOO_OLD, reason(at(SENT + 301, SECRET), BODY, headers(SIGNATURE)));
        assertEquals(Reason.TIMESTAMP_TOO_NEW, reason(at(SENT - 301, SECRET), BODY, headers(SIGNATURE)));
        assertEquals(Reason.MISSING_HEADERS, reason(at(SENT, SECRET), BODY, Map.of()));
        assertEquals(Reason.NO_MATCHING_SIGNATURE, reason(at(SENT, SECRET), BODY, headers("v1a," + SIGNATURE.substring(3))));
        assertThrows(IllegalArgumentException.class, () -> new WebhookVerifier("", null));
    }

    static Reason reason(WebhookVerifier v, byte[] body, Map<String, List<String>> headers) {
        return assertThrows(WebhookVerificationException.class, () -> v.verify(body, headers)).reason();
    }
}
