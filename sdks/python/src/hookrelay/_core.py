"""What the sync and the async client share: building requests, the retry rules, reading answers."""

from __future__ import annotations

import email.utils
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, TypeVar
from urllib.parse import quote

import httpx

from .errors import APIConnectionError, HookrelayError, error_for
from .types import Page

DEFAULT_BASE_URL = "http://127.0.0.1:3000"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 3
# POST /v1/webhooks/{id}/test waits server-side for the first attempt (up to the webhook's timeout + 5 s).
TEST_TIMEOUT_S = 70.0
# A retry-after longer than this is not waited for in a call (the error is raised instead once retries are spent).
MAX_RETRY_AFTER_S = 60.0

# Gateway errors: the API may or may not have applied the request.
_AMBIGUOUS = {502, 504}
# 429 and 503: the API guarantees such a request had no effect.
_ALWAYS_RETRIED = {429, 503}

F = TypeVar("F", bound=Callable[..., Any])


def operation(op: str) -> Callable[[F], F]:
    """Marks a method as the SDK's call of one API operation ("METHOD /path" as in /openapi.json)."""

    def mark(fn: F) -> F:
        fn.__hookrelay_operation__ = op  # type: ignore[attr-defined]
        return fn

    return mark


def seg(value: str) -> str:
    """One path segment, escaped (ids, uids and event type names may carry any character)."""
    return quote(str(value), safe="")


def drop_unset(values: Mapping[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def query(values: Mapping[str, Any]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for k, v in values.items():
        if v is None:
            continue
        out[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


@dataclass
class Request:
    method: str
    path: str
    params: Dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    headers: Dict[str, str] = field(default_factory=dict)
    timeout: Optional[float] = None
    # a POST that is safe to repeat although nothing says so in its headers
    repeatable: bool = False

    @property
    def can_repeat(self) -> bool:
        """Whether repeating it after an ambiguous failure is harmless: reads, PUT/PATCH/DELETE, and POSTs that
        carry an idempotency key (every publish). Retrying e.g. rotate-secret blindly could rotate twice and drop
        the secret receivers still hold."""
        return self.method != "POST" or "idempotency-key" in self.headers or self.repeatable


def req(method: str, path: str, *, params: Optional[Mapping[str, Any]] = None, body: Any = ..., headers: Optional[Dict[str, str]] = None,
        timeout: Optional[float] = None, repeatable: bool = False) -> Request:
    return Request(method, path, query(params or {}), None if body is ... else body, body is not ..., dict(headers or {}), timeout, repeatable)


class Config:
    def __init__(self, api_key: Optional[str], base_url: Optional[str], max_retries: int, timeout: float) -> None:
        key = api_key if api_key is not None else os.environ.get("HOOKRELAY_API_KEY")
        # Fail here rather than with a 401 later: an unset environment variable is the usual cause.
        if not key:
            raise ValueError("hookrelay: api_key is required (or set HOOKRELAY_API_KEY)")
        self.api_key = key
        self.base_url = (base_url or os.environ.get("HOOKRELAY_API_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.max_retries = max_retries
        self.timeout = timeout

    def http_args(self, r: Request) -> Dict[str, Any]:
        headers = {"authorization": f"Bearer {self.api_key}", "accept": "application/json", **r.headers}
        args: Dict[str, Any] = {
            "method": r.method,
            "url": self.base_url + r.path,
            "params": r.params or None,
            "headers": headers,
            "timeout": r.timeout if r.timeout is not None else self.timeout,
        }
        if r.has_body:
            args["json"] = r.body
        return args


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: 0.25 s, 0.5 s, 1 s, … up to 10 s, each 50–100 % of that."""
    return min(10.0, 0.25 * 2.0**attempt) * (0.5 + random.random() / 2)


def retry_after(response: httpx.Response) -> Optional[float]:
    """``retry-after`` in seconds (a number, or an HTTP date), capped; None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def should_retry(r: Request, status: int) -> bool:
    return status in _ALWAYS_RETRIED or (r.can_repeat and status in _AMBIGUOUS)


def delay_for(attempt: int, response: httpx.Response) -> float:
    after = retry_after(response)
    return after if after is not None and after > 0 else backoff(attempt)


def connection_error(cfg: Config, err: Exception) -> APIConnectionError:
    why = f"timed out ({type(err).__name__})" if isinstance(err, httpx.TimeoutException) else (str(err) or type(err).__name__)
    return APIConnectionError(f"cannot reach {cfg.base_url}: {why}", code="network_error", status=0)


def result(r: Request, response: httpx.Response, ambiguous: bool) -> Any:
    """The answer's JSON, or the typed error it carries."""
    # A DELETE whose first try went through but whose answer was lost sees 404 on the retry: it is done.
    if r.method == "DELETE" and response.status_code == 404 and ambiguous:
        return None
    text = response.text
    try:
        body = response.json() if text else None
    except ValueError:
        body = ...  # e.g. an HTML error page from a proxy in front of the API
    request_id = response.headers.get("x-request-id")
    if response.status_code >= 400:
        err: Dict[str, Any] = {}
        if isinstance(body, dict):
            if isinstance(body.get("error"), dict):
                err = body["error"]
            if body.get("request_id"):
                request_id = body["request_id"]
        message = err.get("message") or f"HTTP {response.status_code}" + (f": {text[:200]}" if body is ... else "")
        cls = error_for(response.status_code)
        raise cls(message, code=err.get("code") or "http_error", status=response.status_code, request_id=request_id, details=err.get("details") or [])
    if body is ...:
        raise HookrelayError("the API answered with a body that is not JSON", code="invalid_response", status=response.status_code, request_id=request_id)
    return body


def page(body: Dict[str, Any]) -> Page[Any]:
    return Page(data=body["data"], pagination=body["pagination"], request_id=body.get("request_id"))


def recovery_timeout(recovery_id: str) -> HookrelayError:
    return HookrelayError(f"recovery {recovery_id} still running", code="timeout", status=0)
