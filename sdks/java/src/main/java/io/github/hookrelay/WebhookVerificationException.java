package io.github.hookrelay;

/** A request that does not pass {@link WebhookVerifier#verify}: answer it with 400 and do not act on it. */
public class WebhookVerificationException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why the request was rejected. */
    public enum Reason {
        MISSING_HEADERS,
        INVALID_TIMESTAMP,
        TIMESTAMP_TOO_OLD,
        TIMESTAMP_TOO_NEW,
        NO_MATCHING_SIGNATURE
    }

    private final Reason reason;

    public WebhookVerificationException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
