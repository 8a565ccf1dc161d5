package io.github.hookrelay;

/**
 * A call that failed without an answer of the API: the API could not be reached (after retries, where those
 * apply), the thread was interrupted, or the answer was not the JSON expected. {@link ApiException}, a subclass,
 * is an answer of the API that is not a success.
 */
public class HookrelayException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HookrelayException(String message, Throwable cause) {
        super(message, cause);
    }

    public HookrelayException(String message) {
        super(message);
    }
}
