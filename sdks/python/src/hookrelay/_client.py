"""The synchronous client: ``Hookrelay``."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, cast

import httpx
from typing_extensions import Unpack

from . import _core
from ._core import drop_unset, operation, req, seg
from .types import (
    ApiKey, Application, ApplicationFields, ApplicationListParams, ApplicationParams, ApplicationStats, ApplicationUpdateParams, AppDeliveryListParams,
    Delivery, DeliveryListParams, Event, EventIn, EventListParams, EventType, EventTypeParams, KeyParams, Me, Page, PageParams,
    PortalSession, Published, Recovery, Role, Webhook, WebhookFields, WebhookListParams, WebhookParams, WebhookStats, WebhookUpdateParams,
)


class Hookrelay:
    """The producer-side client of the hookrelay API (synchronous; ``AsyncHookrelay`` is the asyncio twin).

    >>> hookrelay = Hookrelay(api_key="hrk_…", base_url="http://127.0.0.1:3000")
    >>> hookrelay.events.publish(type="invoice.paid", data={"invoice": "A-1"}, application="acme")

    ``api_key`` and ``base_url`` default to ``HOOKRELAY_API_KEY`` and ``HOOKRELAY_API_URL``. Calls are retried
    (``max_retries``, default 3, exponential backoff with jitter) on 429 and 503, honouring ``retry-after``;
    network errors, timeouts, 502 and 504 only when repeating is harmless (reads, PUT/PATCH/DELETE, publishes).
    Every non-2xx answer raises a ``HookrelayError`` subclass. Use it as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        timeout: float = _core.DEFAULT_TIMEOUT_S,
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        self._cfg = _core.Config(api_key, base_url, max_retries, timeout)
        self._http = http_client or httpx.Client()
        self._owns_http = http_client is None
        self.applications = Applications(self)
        self.keys = Keys(self)
        self.event_types = EventTypes(self)
        self.webhooks = Webhooks(self)
        self.events = Events(self)
        self.deliveries = Deliveries(self)

    @property
    def base_url(self) -> str:
        return self._cfg.base_url

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> "Hookrelay":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Dict[str, Any]] = None,
        json: Any = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Any:
        """Any API call (``path`` like ``/v1/me``) with the client's auth, retries and errors; returns the JSON answer."""
        return self._send(req(method.upper(), path, params=params, body=... if json is None else json, headers=headers))

    def _send(self, r: _core.Request) -> Any:
        """One API call with the retry rules; returns the answer's JSON (None for 204)."""
        ambiguous = False  # an earlier attempt may have been applied
        attempt = 0
        while True:
            can_retry = attempt < self._cfg.max_retries
            try:
                response = self._http.request(**self._cfg.http_args(r))
            except httpx.TransportError as err:
                if can_retry and r.can_repeat:
                    ambiguous = True
                    time.sleep(_core.backoff(attempt))
                    attempt += 1
                    continue
                raise _core.connection_error(self._cfg, err) from err
            if can_retry and _core.should_retry(r, response.status_code):
                ambiguous = ambiguous or response.status_code in (502, 504)
                response.close()
                time.sleep(_core.delay_for(attempt, response))
                attempt += 1
                continue
            return _core.result(r, response, ambiguous)

    def paginate(self, path: str, **params: Any) -> Iterator[Any]:
        """Every item of a paginated list, fetching page after page (100 at a time unless ``per_page`` says)."""
        page = 1
        while True:
            body = self._send(req("GET", path, params={"per_page": 100, **params, "page": page}))
            yield from body["data"]
            if not body["pagination"]["has_more"]:
                return
            page += 1

    def _page(self, path: str, params: Dict[str, Any]) -> Page[Any]:
        return _core.page(self._send(req("GET", path, params=params)))

    @operation("GET /v1/me")
    def me(self) -> Me:
        """The key's organization and role."""
        return cast("Me", self._send(req("GET", "/v1/me")))

    def wait_for_recovery(
        self,
        webhook_id: str,
        recovery_id: str,
        *,
        timeout: float = 600.0,
        interval: float = 0.5,
        on_progress: Optional[Callable[[Recovery], None]] = None,
    ) -> Recovery:
        """Polls a recovery until it completes (``on_progress`` sees each state); raises on ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            rec = self.webhooks.get_recovery(webhook_id, recovery_id)
            if on_progress:
                on_progress(rec)
            if rec["status"] == "completed":
                return rec
            if time.monotonic() > deadline:
                raise _core.recovery_timeout(recovery_id)
            time.sleep(interval)


class _Resource:
    def __init__(self, client: Hookrelay) -> None:
        self._c = client


class Applications(_Resource):
    """Your customers. Wherever an application is named (``app``), its id (``app_…``) or its uid works."""

    @operation("POST /v1/applications")
    def create(self, name: str, **params: Unpack[ApplicationParams]) -> Application:
        return cast("Application", self._c._send(req("POST", "/v1/applications", body={"name": name, **params})))

    @operation("PUT /v1/applications/uid/{uid}")
    def upsert(self, uid: str, name: str, **params: Unpack[ApplicationFields]) -> Application:
        """Creates or updates the application with your own customer id."""
        return cast("Application", self._c._send(req("PUT", f"/v1/applications/uid/{seg(uid)}", body={"name": name, **params})))

    @operation("GET /v1/applications")
    def list(self, **params: Unpack[ApplicationListParams]) -> Page[Application]:
        return cast("Page[Application]", self._c._page("/v1/applications", dict(params)))

    def list_all(self, *, uid: Optional[str] = None, q: Optional[str] = None) -> Iterator[Application]:
        return self._c.paginate("/v1/applications", **drop_unset({"uid": uid, "q": q}))

    @operation("GET /v1/applications/{app}")
    def get(self, app: str) -> Application:
        return cast("Application", self._c._send(req("GET", f"/v1/applications/{seg(app)}")))

    @operation("PATCH /v1/applications/{app}")
    def update(self, app: str, **params: Unpack[ApplicationUpdateParams]) -> Application:
        return cast("Application", self._c._send(req("PATCH", f"/v1/applications/{seg(app)}", body=dict(params))))

    @operation("DELETE /v1/applications/{app}")
    def delete(self, app: str) -> None:
        """Deletes its webhooks (their open deliveries end cancelled), revokes its keys, then the application."""
        self._c._send(req("DELETE", f"/v1/applications/{seg(app)}"))

    @operation("GET /v1/applications/{app}/stats")
    def stats(self, app: str) -> ApplicationStats:
        return cast("ApplicationStats", self._c._send(req("GET", f"/v1/applications/{seg(app)}/stats")))

    @operation("GET /v1/applications/{app}/webhooks")
    def list_webhooks(self, app: str, **params: Unpack[WebhookListParams]) -> Page[Webhook]:
        return cast("Page[Webhook]", self._c._page(f"/v1/applications/{seg(app)}/webhooks", dict(params)))

    @operation("POST /v1/applications/{app}/webhooks")
    def create_webhook(self, app: str, url: str, **params: Unpack[WebhookParams]) -> Webhook:
        return cast("Webhook", self._c._send(req("POST", f"/v1/applications/{seg(app)}/webhooks", body={"url": url, **params})))

    @operation("GET /v1/applications/{app}/deliveries")
    def list_deliveries(self, app: str, **params: Unpack[AppDeliveryListParams]) -> Page[Delivery]:
        return cast("Page[Delivery]", self._c._page(f"/v1/applications/{seg(app)}/deliveries", dict(params)))

    @operation("POST /v1/applications/{app}/portal-sessions")
    def create_portal_session(self, app: str, *, expires_in: Optional[int] = None) -> PortalSession:
        """A link that opens the consumer portal signed in as this application (the token is in the URL fragment)."""
        return cast("PortalSession", self._c._send(req("POST", f"/v1/applications/{seg(app)}/portal-sessions", body=drop_unset({"expires_in": expires_in}))))

    @operation("DELETE /v1/applications/{app}/portal-sessions/{id}")
    def end_portal_session(self, app: str, session_id: str) -> None:
        self._c._send(req("DELETE", f"/v1/applications/{seg(app)}/portal-sessions/{seg(session_id)}"))


class Keys(_Resource):
    """API keys (admin keys only). The full key is in the answer to ``create`` only."""

    @operation("POST /v1/keys")
    def create(self, role: Role, **params: Unpack[KeyParams]) -> ApiKey:
        return cast("ApiKey", self._c._send(req("POST", "/v1/keys", body={"role": role, **params})))

    @operation("GET /v1/keys")
    def list(self, **params: Unpack[PageParams]) -> Page[ApiKey]:
        return cast("Page[ApiKey]", self._c._page("/v1/keys", dict(params)))

    def list_all(self) -> Iterator[ApiKey]:
        return self._c.paginate("/v1/keys")

    @operation("GET /v1/keys/{id}")
    def get(self, key_id: str) -> ApiKey:
        return cast("ApiKey", self._c._send(req("GET", f"/v1/keys/{seg(key_id)}")))

    @operation("DELETE /v1/keys/{id}")
    def revoke(self, key_id: str) -> None:
        self._c._send(req("DELETE", f"/v1/keys/{seg(key_id)}"))


class EventTypes(_Resource):
    """The organization's event type catalog."""

    @operation("POST /v1/event-types")
    def create(self, name: str, **params: Unpack[EventTypeParams]) -> EventType:
        return cast("EventType", self._c._send(req("POST", "/v1/event-types", body={"name": name, **params})))

    @operation("GET /v1/event-types")
    def list(self, *, include_archived: Optional[bool] = None, **params: Unpack[PageParams]) -> Page[EventType]:
        return cast("Page[EventType]", self._c._page("/v1/event-types", {"include_archived": include_archived, **params}))

    def list_all(self, *, include_archived: Optional[bool] = None) -> Iterator[EventType]:
        return self._c.paginate("/v1/event-types", **drop_unset({"include_archived": include_archived}))

    @operation("GET /v1/event-types/{name}")
    def get(self, name: str) -> EventType:
        return cast("EventType", self._c._send(req("GET", f"/v1/event-types/{seg(name)}")))

    @operation("PATCH /v1/event-types/{name}")
    def update(self, name: str, **params: Unpack[EventTypeParams]) -> EventType:
        return cast("EventType", self._c._send(req("PATCH", f"/v1/event-types/{seg(name)}", body=dict(params))))

    @operation("DELETE /v1/event-types/{name}")
    def archive(self, name: str) -> None:
        self._c._send(req("DELETE", f"/v1/event-types/{seg(name)}"))


class Webhooks(_Resource):
    """Endpoints and what they receive; ``secret`` is in full only on creation, rotation and ``include_secret``."""

    @operation("POST /v1/webhooks")
    def create(self, url: str, **params: Unpack[WebhookParams]) -> Webhook:
        return cast("Webhook", self._c._send(req("POST", "/v1/webhooks", body={"url": url, **params})))

    @operation("PUT /v1/webhooks/uid/{uid}")
    def register(self, uid: str, url: str, **params: Unpack[WebhookFields]) -> Webhook:
        """Creates or replaces the webhook of a customer source: the same uid is always one webhook."""
        return cast("Webhook", self._c._send(req("PUT", f"/v1/webhooks/uid/{seg(uid)}", body={"url": url, **params})))

    @operation("GET /v1/webhooks")
    def list(self, **params: Unpack[WebhookListParams]) -> Page[Webhook]:
        return cast("Page[Webhook]", self._c._page("/v1/webhooks", dict(params)))

    def list_all(self, **params: Unpack[WebhookListParams]) -> Iterator[Webhook]:
        return self._c.paginate("/v1/webhooks", **params)

    @operation("GET /v1/webhooks/{id}")
    def get(self, webhook_id: str, *, include_secret: bool = False) -> Webhook:
        return cast("Webhook", self._c._send(req("GET", f"/v1/webhooks/{seg(webhook_id)}", params={"include_secret": True if include_secret else None})))

    @operation("PATCH /v1/webhooks/{id}")
    def update(self, webhook_id: str, **params: Unpack[WebhookUpdateParams]) -> Webhook:
        return cast("Webhook", self._c._send(req("PATCH", f"/v1/webhooks/{seg(webhook_id)}", body=dict(params))))

    def disable(self, webhook_id: str) -> Webhook:
        """In-flight deliveries hold and events published meanwhile are kept, paused: nothing is dropped."""
        return self.update(webhook_id, disabled=True)

    def enable(self, webhook_id: str, *, recover_since: Optional[str] = None) -> Webhook:
        """Releases the held deliveries in order; ``recover_since`` also re-delivers what failed since then."""
        if recover_since is None:
            return self.update(webhook_id, disabled=False)
        return self.update(webhook_id, disabled=False, recover_since=recover_since)

    @operation("DELETE /v1/webhooks/{id}")
    def delete(self, webhook_id: str) -> None:
        self._c._send(req("DELETE", f"/v1/webhooks/{seg(webhook_id)}"))

    @operation("POST /v1/webhooks/{id}/recover")
    def recover(self, webhook_id: str, *, since: str, until: Optional[str] = None) -> Recovery:
        """Re-delivers what failed between ``since`` and ``until``; follow it with ``Hookrelay.wait_for_recovery``."""
        return cast("Recovery", self._c._send(req("POST", f"/v1/webhooks/{seg(webhook_id)}/recover", body=drop_unset({"since": since, "until": until}))))

    @operation("GET /v1/webhooks/{id}/recoveries/{rcv_id}")
    def get_recovery(self, webhook_id: str, recovery_id: str) -> Recovery:
        return cast("Recovery", self._c._send(req("GET", f"/v1/webhooks/{seg(webhook_id)}/recoveries/{seg(recovery_id)}")))

    @operation("POST /v1/webhooks/{id}/rotate-secret")
    def rotate_secret(self, webhook_id: str, *, secret: Optional[str] = None) -> Dict[str, str]:
        """A new secret (generated unless given); for 24 h deliveries are signed by it and by the previous one.
        Never retried after an ambiguous failure: rotating twice would drop the secret receivers still hold."""
        return cast("Dict[str, str]", self._c._send(req("POST", f"/v1/webhooks/{seg(webhook_id)}/rotate-secret", body=drop_unset({"secret": secret}))))

    @operation("POST /v1/webhooks/{id}/test")
    def test(self, webhook_id: str, *, event_type: Optional[str] = None, data: Any = None) -> Delivery:
        """Sends a test event and waits for its first attempt (server-side, up to the webhook's timeout + 5 s)."""
        timeout = max(self._c._cfg.timeout, _core.TEST_TIMEOUT_S)
        return cast("Delivery", self._c._send(req("POST", f"/v1/webhooks/{seg(webhook_id)}/test", body=drop_unset({"event_type": event_type, "data": data}), timeout=timeout)))

    @operation("GET /v1/webhooks/{id}/stats")
    def stats(self, webhook_id: str, *, window: Optional[str] = None) -> WebhookStats:
        return cast("WebhookStats", self._c._send(req("GET", f"/v1/webhooks/{seg(webhook_id)}/stats", params={"window": window})))

    @operation("GET /v1/webhooks/{id}/deliveries")
    def list_deliveries(self, webhook_id: str, **params: Unpack[DeliveryListParams]) -> Page[Delivery]:
        return cast("Page[Delivery]", self._c._page(f"/v1/webhooks/{seg(webhook_id)}/deliveries", dict(params)))

    def list_all_deliveries(self, webhook_id: str, **params: Unpack[DeliveryListParams]) -> Iterator[Delivery]:
        return self._c.paginate(f"/v1/webhooks/{seg(webhook_id)}/deliveries", **params)


class Events(_Resource):
    @operation("POST /v1/events")
    def publish(
        self,
        type: str,
        data: Any,
        *,
        application: Optional[str] = None,
        id: Optional[str] = None,
        channels: Optional[Sequence[str]] = None,
        timestamp: Optional[str] = None,
        raw: Optional[bool] = None,
        idempotency_key: Optional[str] = None,
    ) -> Published:
        """Publishes one event (to ``application``'s webhooks, or to organization-level ones without it).

        Sends an ``idempotency-key`` (a new UUID unless given), so a publish retried after a lost answer is
        stored once; the same key within 24 h answers with the first event.
        """
        body = drop_unset({"type": type, "data": data, "application": application, "id": id, "timestamp": timestamp, "raw": raw,
                           "channels": list(channels) if channels is not None else None})
        body["data"] = data  # data may be null on purpose
        key = idempotency_key or _core.new_idempotency_key()
        return cast("Published", self._c._send(req("POST", "/v1/events", body=body, headers={"idempotency-key": key})))

    @operation("POST /v1/events/batch")
    def publish_batch(self, events: Sequence[EventIn], *, idempotency_key: Optional[str] = None) -> List[Published]:
        """Publishes up to 500 events, all or nothing. The batch carries an idempotency key too (each event is
        recognised by its ``id``, or by the key and its index), so retrying it never stores an event twice."""
        key = idempotency_key or _core.new_idempotency_key()
        answer = self._c._send(req("POST", "/v1/events/batch", body={"events": list(events)}, headers={"idempotency-key": key}))
        return cast(List[Published], answer["data"])

    @operation("GET /v1/events")
    def list(self, **params: Unpack[EventListParams]) -> Page[Event]:
        return cast("Page[Event]", self._c._page("/v1/events", dict(params)))

    def list_all(self, **params: Unpack[EventListParams]) -> Iterator[Event]:
        return self._c.paginate("/v1/events", **params)

    @operation("GET /v1/events/{id}")
    def get(self, event_id: str) -> Event:
        """The event with its deliveries."""
        return cast("Event", self._c._send(req("GET", f"/v1/events/{seg(event_id)}")))

    @operation("DELETE /v1/events/{id}/payload")
    def erase_payload(self, event_id: str) -> Event:
        """Erases the payload (privacy requests): ``data`` becomes null, the delivery records stay, never sent again."""
        return cast("Event", self._c._send(req("DELETE", f"/v1/events/{seg(event_id)}/payload")))


class Deliveries(_Resource):
    @operation("GET /v1/deliveries/{id}")
    def get(self, delivery_id: str) -> Delivery:
        """One delivery with every attempt (status, duration, response)."""
        return cast("Delivery", self._c._send(req("GET", f"/v1/deliveries/{seg(delivery_id)}")))

    @operation("POST /v1/deliveries/{id}/retry")
    def retry(self, delivery_id: str) -> Delivery:
        return cast("Delivery", self._c._send(req("POST", f"/v1/deliveries/{seg(delivery_id)}/retry", body={})))
