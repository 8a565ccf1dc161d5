"""Errors: every non-2xx answer of the API raises a ``HookrelayError`` carrying the API's error code and request id."""

from __future__ import annotations

from typing import Dict, List, Optional, Type


class HookrelayError(Exception):
    """An answer of the API that is not a success, or a failure to reach it once retries are spent.

    ``code`` is the API's error code (``validation_failed``, ``not_found``, ``conflict``, …; ``network_error``
    when the API could not be reached), ``status`` the HTTP status (0 without an answer), ``request_id`` the
    ``req_…`` id to quote to the operator, ``details`` the per-field problems (``[{"path", "message"}]``).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int,
        request_id: Optional[str] = None,
        details: Optional[List[Dict[str, str]]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.details: List[Dict[str, str]] = details or []

    def __str__(self) -> str:
        where = f", request {self.request_id}" if self.request_id else ""
        return f"{self.message} ({self.code}, HTTP {self.status}{where})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, request_id={self.request_id!r}, message={self.message!r})"


class BadRequestError(HookrelayError):
    """400: ``validation_failed`` (see ``details``) or ``unknown_event_type``."""


class AuthenticationError(HookrelayError):
    """401 ``unauthenticated``: no key, or an unknown, revoked or expired one."""


class PermissionDeniedError(HookrelayError):
    """403 ``forbidden``: the key's role may not do this."""


class NotFoundError(HookrelayError):
    """404 ``not_found``: no such object in the key's organization (or application)."""


class ConflictError(HookrelayError):
    """409 ``conflict``: a unique name is taken, or an idempotency key was reused with another body."""


class RateLimitError(HookrelayError):
    """429 ``rate_limited``, raised once the retries honouring ``retry-after`` are spent."""


class UnavailableError(HookrelayError):
    """503 ``unavailable``/``overloaded``: the request had no effect; raised once the retries are spent."""


class APIConnectionError(HookrelayError):
    """The API could not be reached (connection refused, DNS, timeout): ``code`` is ``network_error``, ``status`` 0."""


class WebhookVerificationError(Exception):
    """A webhook whose signature, timestamp or headers do not verify: answer it with 400 and ignore it."""


_BY_STATUS: Dict[int, Type[HookrelayError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
    503: UnavailableError,
}


def error_for(status: int) -> Type[HookrelayError]:
    return _BY_STATUS.get(status, HookrelayError)
