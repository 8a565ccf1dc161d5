package hookrelay

import (
	"errors"
	"fmt"
)

// The API's error codes (Error.Code).
const (
	CodeValidationFailed     = "validation_failed"
	CodeUnknownEventType     = "unknown_event_type"
	CodeUnauthenticated      = "unauthenticated"
	CodeForbidden            = "forbidden"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeConflict             = "conflict"
	CodePayloadTooLarge      = "payload_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRateLimited          = "rate_limited"
	CodeUnavailable          = "unavailable"
	CodeOverloaded           = "overloaded"
	// CodeHTTPError is set when the answer carried no error body of the API (e.g. a proxy's error page).
	CodeHTTPError = "http_error"
)

// Error is an answer of the API that is not a success (after retries, where those apply).
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the API's error code: CodeNotFound, CodeConflict, …
	Code    string
	Message string
	// RequestID identifies the request in the API's logs (x-request-id).
	RequestID string
	// Details lists the offending fields of a validation error.
	Details []ErrorDetail
}

// ErrorDetail names one field that failed validation.
type ErrorDetail struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("hookrelay: %s (%d): %s", e.Code, e.StatusCode, e.Message)
	if e.RequestID != "" {
		msg += " [" + e.RequestID + "]"
	}
	return msg
}

// IsCode reports whether err is an *Error of the API with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// IsNotFound reports whether err is the API's not_found.
func IsNotFound(err error) bool { return IsCode(err, CodeNotFound) }

// IsConflict reports whether err is the API's conflict (a name taken, an idempotency key reused with another body).
func IsConflict(err error) bool { return IsCode(err, CodeConflict) }
