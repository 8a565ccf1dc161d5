"""The asyncio client: ``AsyncHookrelay``, method for method the twin of ``Hookrelay`` (``_client.py``)."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, Sequence, Union, cast

import httpx
from typing_extensions import Unpack

from . import _core
from ._core import drop_unset, operation, req, seg
from .types import (
    ApiKey, Application, ApplicationFields, ApplicationListParams, ApplicationParams, ApplicationStats, ApplicationUpdateParams, AppDeliveryListParams,
    Delivery, DeliveryListParams, Event, EventIn, EventListParams, EventType, EventTypeParams, KeyParams, Me, Page, PageParams,
    PortalSession, Published, Recovery, Role, Webhook, WebhookFields, WebhookListParams, WebhookParams, WebhookStats, WebhookUpdateParams,
)


class AsyncHookrelay:
    """The producer-side client of the hookrelay API for asyncio (``Hookrelay`` is the synchronous twin).

    >>> async with AsyncHookrelay(api_key="hrk_…", base_url="http://127.0.0.1:3000") as hookrelay:
    ...     await hookrelay.events.publish(type="invoice.paid", data={"invoice": "A-1"}, application="acme")

    ``api_key`` and ``base_url`` default to ``HOOKRELAY_API_KEY`` and ``HOOKRELAY_API_URL``. Calls are retried
    (``max_retries``, default 3, exponential backoff with jitter) on 429 and 503, honouring ``retry-after``;
    network errors, timeouts, 502 and 504 only when repeating is harmless (reads, PUT/PATCH/DELETE, publishes).
    Every non-2xx answer raises a ``HookrelayError`` subclass. Use it with ``async with``, or await ``aclose()``.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        timeout: float = _core.DEFAULT_TIMEOUT_S,
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        self._cfg = _core.Config(api_key, base_url, max_retries, timeout)
        self._http = http_client or httpx.AsyncClient()
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

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> "AsyncHookrelay":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Dict[str, Any]] = None,
        json: Any = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Any:
        """Any API call (``path`` like ``/v1/me``) with the client's auth, retries and errors; returns the JSON answer."""
        return await self._send(req(method.upper(), path, params=params, body=... if json is None else json, headers=headers))

    async def _send(self, r: _core.Request) -> Any:
        """One API call with the retry rules; returns the answer's JSON (None for 204)."""
        ambiguous = False  # an earlier attempt may have been applied
        attempt = 0
        while True:
            can_retry = attempt < self._cfg.max_retries
            try:
                response = await self._http.request(**self._cfg.http_args(r))
            except httpx.TransportError as err:
                if can_retry and r.can_repeat:
                    ambiguous = True
                    await asyncio.sleep(_core.backoff(attempt))
                    attempt += 1
                    continue
                raise _core.connection_error(self._cfg, err) from err
            if can_retry and _core.should_retry(r, response.status_code):
                ambiguous = ambiguous or response.status_code in (502, 504)
                await response.aclose()
                await asyncio.sleep(_core.delay_for(attempt, response))
                attempt += 1
                continue
            return _core.result(r, response, ambiguous)

    async def paginate(self, path: str, **params: Any) -> AsyncIterator[Any]:
        """Every item of a paginated list, fetching page after page (100 at a time unless ``per_page`` says)."""
        page = 1
        while True:
            body = await self._send(req("GET", path, params={"per_page": 100, **params, "page": page}))
            for item in body["data"]:
                yield item
            if not body["pagination"]["has_more"]:
                return
            page += 1

    async def _page(self, path: str, params: Dict[str, Any]) -> Page[Any]:
        return _core.page(await self._send(req("GET", path, params=params)))

    @operation("GET /v1/me")
    async def me(self) -> Me:
        """The key's organization and role."""
        return cast("Me", await self._send(req("GET", "/v1/me")))

    async def wait_for_recovery(
        self,
        webhook_id: str,
        recovery_id: str,
        *,
        timeout: float = 600.0,
        interval: float = 0.5,
        on_progress: Optional[Callable[[Recovery], Union[None, Awaitable[None]]]] = None,
    ) -> Recovery:
        """Polls a recovery until it completes (``on_progress``, plain or async, sees each state); raises on ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            rec = await self.webhooks.get_recovery(webhook_id, recovery_id)
            if on_progress:
                shown = on_progress(rec)
                if inspect.isawaitable(shown):
                    await shown
            if rec["status"] == "completed":
                return rec
            if time.monotonic() > deadline:
                raise _core.recovery_timeout(recovery_id)
            await asyncio.sleep(interval)


class _Resource:
    def __init__(self, client: AsyncHookrelay) -> None:
        self._c = client


class Applications(_Resource):
    """Your customers. Wherever an application is named (``app``), its id (``app_…``) or its uid works."""

    @operation("POST /v1/applications")
    async def create(self, name: str, **params: Unpack[ApplicationParams]) -> Application:
        return cast("Application", await self._c._send(req("POST", "/v1/applications", body={"name": name, **params})))

    @operation("PUT /v1/applications/uid/{uid}")
    async def upsert(self, uid: str, name: str, **params: Unpack[ApplicationFields]) -> Application:
        """Creates or updates the application with your own customer id."""
        return cast("Application", await self._c._send(req("PUT", f"/v1/applications/uid/{seg(uid)}", body={"name": name, **params})))

    @operation("GET /v1/applications")
    async def list(self, **params: Unpack[ApplicationListParams]) -> Page[Application]:
        return cast("Page[Application]", await self._c._page("/v1/applications", dict(params)))

    def list_all(self, *, uid: Optional[str] = None, q: Optional[str] = None) -> AsyncIterator[Application]:
        return self._c.paginate("/v1/applications", **drop_unset({"uid": uid, "q": q}))

    @operation("GET /v1/applications/{app}")
    async def get(self, app: str) -> Application:
        return cast("Application", await self._c._send(req("GET", f"/v1/applications/{seg(app)}")))

    @operation("PATCH /v1/applications/{app}")
    async def update(self, app: str, **params: Unpack[ApplicationUpdateParams]) -> Application:
        return cast("Application", await self._c._send(req("PATCH", f"/v1/applications/{seg(app)}", body=dict(params))))

    @operation("DELETE /v1/applications/{app}")
    async def delete(self, app: str) -> None:
        """Deletes its webhooks (their open deliveries end cancelled), revokes its keys, then the application."""
        await self._c._send(req("DELETE", f"/v1/applications/{seg(app)}"))

    @operation("GET /v1/applications/{app}/stats")
    async def stats(self, app: str) -> ApplicationStats:
        return cast("ApplicationStats", await self._c._send(req("GET", f"/v1/applications/{seg(app)}/stats")))

    @operation("GET /v1/applications/{app}/webhooks")
    async def list_webhooks(self, app: str, **params: Unpack[WebhookListParams]) -> Page[Webhook]:
        return cast("Page[Webhook]", await self._c._page(f"/v1/applications/{seg(app)}/webhooks", dict(params)))

    @operation("POST /v1/applications/{app}/webhooks")
    async def create_webhook(self, app: str, url: str, **params: Unpack[WebhookParams]) -> Webhook:
        return cast("Webhook", await self._c._send(req("POST", f"/v1/applications/{seg(app)}/webhooks", body={"url": url, **params})))

    @operation("GET /v1/applications/{app}/deliveries")
    async def list_deliveries(self, app: str, **params: Unpack[AppDeliveryListParams]) -> Page[Delivery]:
        return cast("Page[Delivery]", await self._c._page(f"/v1/applications/{seg(app)}/deliveries", dict(params)))

    @operation("POST /v1/applications/{app}/portal-sessions")
    async def create_portal_session(self, app: str, *, expires_in: Optional[int] = None) -> PortalSession:
        """A link that opens the consumer portal signed in as this application (the token is in the URL fragment)."""
        return cast("PortalSession", await self._c._send(req("POST", f"/v1/applications/{seg(app)}/portal-sessions", body=drop_unset({"expires_in": expires_in}))))

    @operation("DELETE /v1/applications/{app}/portal-sessions/{id}")
    async def end_portal_session(self, app: str, session_id: str) -> None:
        await self._c._send(req("DELETE", f"/v1/applications/{seg(app)}/portal-sessions/{seg(session_id)}"))


class Keys(_Resource):
    """API keys (admin keys only). The full key is in the answer to ``create`` only."""

    @operation("POST /v1/keys")
    async def create(self, role: Role, **params: Unpack[KeyParams]) -> ApiKey:
        return cast("ApiKey", await self._c._send(req("POST", "/v1/keys", body={"role": role, **params})))

    @operation("GET /v1/keys")
    async def list(self, **params: Unpack[PageParams]) -> Page[ApiKey]:
        return cast("Page[ApiKey]", await self._c._page("/v1/keys", dict(params)))

    def list_all(self) -> AsyncIterator[ApiKey]:
        return self._c.paginate("/v1/keys")

    @operation("GET /v1/keys/{id}")
    async def get(self, key_id: str) -> ApiKey:
        return cast("ApiKey", await self._c._send(req("GET", f"/v1/keys/{seg(key_id)}")))

    @operation("DELETE /v1/keys/{id}")
    async def revoke(self, key_id: str) -> None:
        await self._c._send(req("DELETE", f"/v1/keys/{seg(key_id)}"))


class EventTypes(_Resource):
    """The organization's event type catalog."""

    @operation("POST /v1/event-types")
    async def create(self, name: str, **params: Unpack[EventTypeParams]) -> EventType:
        return cast("EventType", await self._c._send(req("POST", "/v1/event-types", body={"name": name, **params})))

    @operation("GET /v1/event-types")
    async def list(self, *, include_archived: Optional[bool] = None, **params: Unpack[PageParams]) -> Page[EventType]:
        return cast("Page[EventType]", await self._c._page("/v1/event-types", {"include_archived": include_archived, **params}))

    def list_all(self, *, include_archived: Optional[bool] = None) -> AsyncIterator[EventType]:
        return self._c.paginate("/v1/event-types", **drop_unset({"include_archived": include_archived}))

    @operation("GET /v1/event-types/{name}")
    async def get(self, name: str) -> EventType:
        return cast("EventType", await self._c._send(req("GET", f"/v1/event-types/{seg(name)}")))

    @operation("PATCH /v1/event-types/{name}")
    async def update(self, name: str, **params: Unpack[EventTypeParams]) -> EventType:
        return cast("EventType", await self._c._send(req("PATCH", f"/v1/event-types/{seg(name)}", body=dict(params))))

    @operation("DELETE /v1/event-types/{name}")
    async def archive(self, name: str) -> None:
        await self._c._send(req("DELETE", f"/v1/event-types/{seg(name)}"))


class Webhooks(_Resource):
    """Endpoints and what they receive; ``secret`` is in full only on creation, rotation and ``include_secret``."""

    @operation("POST /v1/webhooks")
    async def create(self, url: str, **params: Unpack[WebhookParams]) -> Webhook:
        return cast("Webhook", await self._c._send(req("POST", "/v1/webhooks", body={"url": url, **params})))

    @operation("PUT /v1/webhooks/uid/{uid}")
    async def register(self, uid: str, url: str, **params: Unpack[WebhookFields]) -> Webhook:
        """Creates or replaces the webhook of a customer source: the same uid is always one webhook."""
        return cast("Webhook", await self._c._send(req("PUT", f"/v1/webhooks/uid/{seg(uid)}", body={"url": url, **params})))

    @operation("GET /v1/webhooks")
    async def list(self, **params: Unpack[WebhookListParams]) -> Page[Webhook]:
        return cast("Page[Webhook]", await self._c._page("/v1/webhooks", dict(params)))

    def list_all(self, **params: Unpack[WebhookListParams]) -> AsyncIterator[Webhook]:
        return self._c.paginate("/v1/webhooks", **params)

    @operation("GET /v1/webhooks/{id}")
    async def get(self, webhook_id: str, *, include_secret: bool = False) -> Webhook:
        return cast("Webhook", await self._c._send(req("GET", f"/v1/webhooks/{seg(webhook_id)}", params={"include_secret": True if include_secret else None})))

    @operation("PATCH /v1/webhooks/{id}")
    async def update(self, webhook_id: str, **params: Unpack[WebhookUpdateParams]) -> Webhook:
        return cast("Webhook", await self._c._send(req("PATCH", f"/v1/webhooks/{seg(webhook_id)}", body=dict(params))))

    async def disable(self, webhook_id: str) -> Webhook:
        """In-flight deliveries hold and events published meanwhile are kept, paused: nothing is dropped."""
        return await self.update(webhook_id, disabled=True)

    async def enable(self, webhook_id: str, *, recover_since: Optional[str] = None) -> Webhook:
        """Releases the held deliveries in order; ``recover_since`` also re-delivers what failed since then."""
        if recover_since is None:
            return await self.update(webhook_id, disabled=False)
        return await self.update(webhook_id, disabled=False, recover_since=recover_since)

    @operation("DELETE /v1/webhooks/{id}")
    async def delete(self, webhook_id: str) -> None:
        await self._c._send(req("DELETE", f"/v1/webhooks/{seg(webhook_id)}"))

    @operation("POST /v1/webhooks/{id}/recover")
    async def recover(self, webhook_id: str, *, since: str, until: Optional[str] = None) -> Recovery:
        """Re-delivers what failed between ``since`` and ``until``; follow it with ``AsyncHookrelay.wait_for_recovery``."""
        return cast("Recovery", await self._c._send(req("POST", f"/v1/webhooks/{seg(webhook_id)}/recover", body=drop_unset({"since": since, "until": until}))))

    @operation("GET /v1/webhooks/{id}/recoveries/{rcv_id}")
    async def get_recovery(self, webhook_id: str, recovery_id: str) -> Recovery:
        return cast("Recovery", await self._c._send(req("GET", f"/v1/webhooks/{seg(webhook_id)}/recoveries/{seg(recovery_id)}")))

    @operation("POST /v1/webhooks/{id}/rotate-secret")
    async def rotate_secret(self, webhook_id: str, *, secret: Optional[str] = None) -> Dict[str, str]:
        """A new secret (generated unless given); for 24 h deliveries are signed by it and by the previous one.
        Never retried after an ambiguous failure: rotating twice would drop the secret receivers still hold."""
        return cast("Dict[str, str]", await self._c._send(req("POST", f"/v1/webhooks/{seg(webhook_id)}/rotate-secret", body=drop_unset({"secret": secret}))))

    @operation("POST /v1/webhooks/{id}/test")
    async def test(self, webhook_id: str, *, event_type: Optional[str] = None, data: Any = None) -> Delivery:
        """Sends a test event and waits for its first attempt (server-side, up to the webhook's timeout + 5 s)."""
        timeout = max(self._c._cfg.timeout, _core.TEST_TIMEOUT_S)
        return cast("Delivery", await self._c._send(req("POST", f"/v1/webhooks/{seg(webhook_id)}/test", body=drop_unset({"event_type": event_type, "data": data}), timeout=timeout)))

    @operation("GET /v1/webhooks/{id}/stats")
    async def stats(self, webhook_id: str, *, window: Optional[str] = None) -> WebhookStats:
        return cast("WebhookStats", await self._c._send(req("GET", f"/v1/webhooks/{seg(webhook_id)}/stats", params={"window": window})))

    @operation("GET /v1/webhooks/{id}/deliveries")
    async def list_deliveries(self, webhook_id: str, **params: Unpack[DeliveryListParams]) -> Page[Delivery]:
        return cast("Page[Delivery]", await self._c._page(f"/v1/webhooks/{seg(webhook_id)}/deliveries", dict(params)))

    def list_all_deliveries(self, webhook_id: str, **params: Unpack[DeliveryListParams]) -> AsyncIterator[Delivery]:
        return self._c.paginate(f"/v1/webhooks/{seg(webhook_id)}/deliveries", **params)


class Events(_Resource):
    @operation("POST /v1/events")
    async def publish(
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
        return cast("Published", await self._c._send(req("POST", "/v1/events", body=body, headers={"idempotency-key": key})))

    @operation("POST /v1/events/batch")
    async def publish_batch(self, events: Sequence[EventIn], *, idempotency_key: Optional[str] = None) -> List[Published]:
        """Publishes up to 500 events, all or nothing. The batch carries an idempotency key too (each event is
        recognised by its ``id``, or by the key and its index), so retrying it never stores an event twice."""
        key = idempotency_key or _core.new_idempotency_key()
        answer = await self._c._send(req("POST", "/v1/events/batch", body={"events": list(events)}, headers={"idempotency-key": key}))
        return cast(List[Published], answer["data"])

    @operation("GET /v1/events")
    async def list(self, **params: Unpack[EventListParams]) -> Page[Event]:
        return cast("Page[Event]", await self._c._page("/v1/events", dict(params)))

    def list_all(self, **params: Unpack[EventListParams]) -> AsyncIterator[Event]:
        return self._c.paginate("/v1/events", **params)

    @operation("GET /v1/events/{id}")
    async def get(self, event_id: str) -> Event:
        """The event with its deliveries."""
        return cast("Event", await self._c._send(req("GET", f"/v1/events/{seg(event_id)}")))

    @operation("DELETE /v1/events/{id}/payload")
    async def erase_payload(self, event_id: str) -> Event:
        """Erases the payload (privacy requests): ``data`` becomes null, the delivery records stay, never sent again."""
        return cast("Event", await self._c._send(req("DELETE", f"/v1/events/{seg(event_id)}/payload")))


class Deliveries(_Resource):
    @operation("GET /v1/deliveries/{id}")
    async def get(self, delivery_id: str) -> Delivery:
        """One delivery with every attempt (status, duration, response)."""
        return cast("Delivery", await self._c._send(req("GET", f"/v1/deliveries/{seg(delivery_id)}")))

    @operation("POST /v1/deliveries/{id}/retry")
    async def retry(self, delivery_id: str) -> Delivery:
        return cast("Delivery", await self._c._send(req("POST", f"/v1/deliveries/{seg(delivery_id)}/retry", body={})))
