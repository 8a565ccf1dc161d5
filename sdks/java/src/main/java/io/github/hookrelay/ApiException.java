package io.github.hookrelay;

import java.util.List;

/**
 * An answer of the API that is not a success: its HTTP status, the API's error code ({@code not_found},
 * {@code validation_failed}, …; see the constants), the request id to quote when asking about it, and the
 * fields that failed validation.
 */
public class ApiException extends HookrelayException {
    private static final long serialVersionUID = 1L;

    public static final String VALIDATION_FAILED = "validation_failed";
    public static final String UNKNOWN_EVENT_TYPE = "unknown_event_type";
    public static final String UNAUTHENTICATED = "unauthenticated";
    public static final String FORBIDDEN = "forbidden";
    public static final String NOT_FOUND = "not_found";
    public static final String METHOD_NOT_ALLOWED = "method_not_allowed";
    public static final String CONFLICT = "conflict";
    public static final String PAYLOAD_TOO_LARGE = "payload_too_large";
    public static final String UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type";
    public static final String RATE_LIMITED = "rate_limited";
    public static final String UNAVAILABLE = "unavailable";
    public static final String OVERLOADED = "overloaded";
    /** The answer carried no error body of the API (e.g. a proxy's error page). */
    public static final String HTTP_ERROR = "http_error";

    /** One field that failed validation. */
    public record Detail(String path, String message) {}

    private final int statusCode;
    private final String code;
    private final String requestId;
    private final transient List<Detail> details;

    public ApiException(int statusCode, String code, String message, String requestId, List<Detail> details) {
        super(code + " (" + statusCode + "): " + message + (requestId == null ? "" : " [" + requestId + "]"));
        this.statusCode = statusCode;
        this.code = code;
        this.requestId = requestId;
        this.details = details == null ? List.of() : List.copyOf(details);
    }

    /** The HTTP status. */
    public int statusCode() {
        return statusCode;
    }

    /** The API's error code, e.g. {@link #NOT_FOUND}. */
    public String code() {
        return code;
    }

    /** The request's id (x-request-id), or null when the answer had none. */
    public String requestId() {
        return requestId;
    }

    public List<Detail> details() {
        return details;
    }

    public boolean isNotFound() {
        return NOT_FOUND.equals(code);
    }

    public boolean isConflict() {
        return CONFLICT.equals(code);
    }
}
