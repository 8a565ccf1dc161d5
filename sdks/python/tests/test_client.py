"""The synchronous client against the real stack."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any, List

import httpx
import pytest

import hookrelay
from hookrelay import (
    AuthenticationError, BadRequestError, ConflictError, Hookrelay, HookrelayError, NotFoundError, PermissionDeniedError,
    WebhookVerificationError, verify_webhook,
)

from .conftest import Receiver, eventually


def test_every_operation_of_the_openapi_document_has_a_method(client: Hookrelay, api_url: str) -> None:
    doc = httpx.get(f"{api_url}/openapi.json").json()
    wanted = {f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops}
    assert len(wanted) > 30
    for c in (client, hookrelay.AsyncHookrelay(api_key="x", base_url=api_url)):
        have = hookrelay.operations(c)
        assert sorted(wanted - have.keys()) == [], f"{type(c).__name__} lacks a method for these operations"
        assert sorted(have.keys() - wanted) == [], "methods for operations the API does not have"


def test_publish_a_delivery_arrives_and_verifies(client: Hookrelay, receiver: Receiver, unique: str) -> None:
    name = f"py.hello.{unique}"
    client.event_types.create(name, description="from the Python SDK")
    assert client.event_types.get(name)["description"] == "from the Python SDK"
    wh = client.webhooks.create(receiver.url, events=[name])
    assert wh["secret"] and wh["secret"].startswith("whsec_")
    event = client.events.publish(name, {"n": 1})
    assert event["id"].startswith("evt_") and event["deliveries"] == 1
    got = receiver.wait_for(1)[0]
    # signed by the real worker; verified with the SDK
    payload = verify_webhook(got.body, got.headers, wh["secret"])
    assert payload["id"] == event["id"] and payload["type"] == name and payload["data"] == {"n": 1}
    assert got.headers["webhook-id"] == event["id"]
    # a captured request replayed later is refused, as is a tampered body or another secret
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(got.body, got.headers, wh["secret"], now=time.time() + 600)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(got.body, got.headers, wh["secret"], now=time.time() - 600)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify_webhook(got.body.replace(b'"n":1', b'"n":2'), got.headers, wh["secret"])
    with pytest.raises(WebhookVerificationError):
        verify_webhook(got.body, got.headers, "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_webhook(got.body, {"webhook-id": event["id"]}, wh["secret"])
    # the delivery log
    delivery = eventually(lambda: next((d for d in client.webhooks.list_deliveries(wh["id"]).data if d["status"] == "delivered"), None))
    assert len(client.deliveries.get(delivery["id"])["attempts"]) == 1
    assert [d["id"] for d in client.events.get(event["id"])["deliveries"]] == [delivery["id"]]
    assert client.webhooks.stats(wh["id"], window="24h")["deliveries"]["delivered"] == 1
    assert [d["id"] for d in client.webhooks.list_all_deliveries(wh["id"])] == [delivery["id"]]
    assert client.webhooks.test(wh["id"])["status"] == "delivered"
    assert client.deliveries.retry(delivery["id"])["status"] == "pending"
    receiver.wait_for(3)


def test_rotation_signs_with_the_current_and_the_previous_secret(client: Hookrelay, receiver: Receiver, unique: str) -> None:
    name = f"py.rotate.{unique}"
    client.event_types.create(name)
    wh = client.webhooks.create(receiver.url, events=[name])
    old = wh["secret"]
    assert old is not None
    new = client.webhooks.rotate_secret(wh["id"])["secret"]
    assert new != old
    assert client.webhooks.get(wh["id"], include_secret=True)["secret"] == new
    assert client.webhooks.get(wh["id"])["secret"] != new
    event = client.events.publish(name, {"rotated": True})
    got = next(r for r in receiver.wait_for(1) if r.headers["webhook-id"] == event["id"])
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    # a receiver still on the old secret, one already on the new, and one holding both all accept it
    for secret in (old, new, [new, old]):
        assert verify_webhook(got.body, got.headers, secret)["data"] == {"rotated": True}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(got.body, got.headers, "whsec_b3RoZXItc2VjcmV0")


def test_webhooks_crud_register_disable_enable_delete(client: Hookrelay, receiver: Receiver, unique: str) -> None:
    name = f"py.crud.{unique}"
    client.event_types.create(name)
    uid = f"source-{unique}"
    first = client.webhooks.register(uid, receiver.url, events=[name], description="first")
    # registering the same uid again replaces the whole configuration, in place
    again = client.webhooks.register(uid, receiver.url, events=[name], retry_schedule=["1s"], headers={"X-Tenant": "42"})
    assert again["id"] == first["id"] and again["description"] == "" and again["headers"] == {"X-Tenant": "42"}
    assert [w["id"] for w in client.webhooks.list(uid=uid).data] == [first["id"]]
    updated = client.webhooks.update(first["id"], timeout_ms=5000, filter={"data.amount": {"$gte": 100}})
    assert updated["timeout_ms"] == 5000 and updated["filter"] == {"data.amount": {"$gte": 100}}
    assert client.events.publish(name, {"amount": 5})["deliveries"] == 0
    assert client.webhooks.disable(first["id"])["status"] == "disabled"
    assert first["id"] in [w["id"] for w in client.webhooks.list_all(status="disabled")]
    held = client.events.publish(name, {"amount": 500})
    assert held["deliveries"] == 1
    enabled = client.webhooks.enable(first["id"])
    assert enabled["status"] == "active"
    got = receiver.wait_for(1)
    assert json.loads(got[0].body)["id"] == held["id"] and got[0].headers["x-tenant"] == "42"
    client.webhooks.delete(first["id"])
    with pytest.raises(NotFoundError) as caught:
        client.webhooks.get(first["id"])
    assert caught.value.code == "not_found" and caught.value.status == 404


def test_applications_keys_and_portal_sessions(client: Hookrelay, receiver: Receiver, api_url: str, unique: str) -> None:
    name = f"py.app.{unique}"
    client.event_types.create(name)
    uid = f"cust-{unique}"
    app = client.applications.upsert(uid, f"Python customer {unique}", metadata={"tier": "gold"})
    assert client.applications.upsert(uid, f"Python customer 2 {unique}")["id"] == app["id"]
    assert client.applications.get(uid)["name"] == f"Python customer 2 {unique}"
    assert client.applications.update(app["id"], name=f"Renamed {unique}")["name"] == f"Renamed {unique}"
    other = client.applications.create(f"Other {unique}", uid=f"other-{unique}")
    assert {a["id"] for a in client.applications.list_all(q=unique)} == {app["id"], other["id"]}
    assert client.applications.list(uid=uid).data[0]["id"] == app["id"]
    with pytest.raises(ConflictError):
        client.applications.create("Taken", uid=uid)

    wh = client.applications.create_webhook(uid, receiver.url, events=[name])
    assert wh["application_id"] == app["id"]
    assert [w["id"] for w in client.applications.list_webhooks(app["id"]).data] == [wh["id"]]
    assert client.events.publish(name, {"n": 7}, application=uid)["deliveries"] == 1
    assert client.events.publish(name, {"n": 8})["deliveries"] == 0  # organization-level: not Acme's webhooks
    eventually(lambda: [d for d in client.applications.list_deliveries(uid).data if d["status"] == "delivered"])
    assert len(client.applications.stats(uid)["webhooks"]) == 1

    key = client.keys.create("application", application=uid, name="py scoped")
    assert key["key"].startswith("hrk_")
    assert client.keys.get(key["id"])["role"] == "application"
    with Hookrelay(api_key=key["key"], base_url=api_url) as scoped:
        assert scoped.me()["key"]["application_id"] == app["id"]
        assert [w["id"] for w in scoped.webhooks.list().data] == [wh["id"]]
        with pytest.raises(PermissionDeniedError) as denied:
            scoped.keys.list()
        assert denied.value.code == "forbidden"

    session = client.applications.create_portal_session(uid, expires_in=600)
    assert "/portal#token=hrk_" in session["url"]
    with Hookrelay(api_key=session["token"], base_url=api_url) as portal:
        assert portal.me()["key"]["application_id"] == app["id"]
    client.applications.end_portal_session(uid, session["id"])
    assert session["id"] not in [k["id"] for k in client.keys.list_all()]

    client.keys.revoke(key["id"])
    client.applications.delete(uid)
    client.applications.delete(other["id"])
    with pytest.raises(NotFoundError):
        client.applications.get(app["id"])


def test_recover_reports_progress_until_completed(client: Hookrelay, receiver: Receiver, unique: str) -> None:
    name = f"py.recover.{unique}"
    client.event_types.create(name)
    up = threading.Event()
    receiver.status = lambda n: 200 if up.is_set() else 500
    wh = client.webhooks.create(receiver.url, events=[name], retry_schedule=[])
    since = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    client.events.publish(name, {"late": True})
    eventually(lambda: len(client.webhooks.list_deliveries(wh["id"], status="failed").data) == 1)
    up.set()
    rec = client.webhooks.recover(wh["id"], since=since)
    assert rec["id"].startswith("rcv_")
    seen: List[str] = []
    done = client.wait_for_recovery(wh["id"], rec["id"], on_progress=lambda r: seen.append(r["status"]))
    assert done["status"] == "completed" and done["recovered"] == 1
    assert seen[-1] == "completed"
    receiver.wait_for(2)
    eventually(lambda: client.webhooks.list_deliveries(wh["id"]).data[0]["status"] == "delivered")


def test_typed_errors_carry_code_status_request_id_and_details(client: Hookrelay, api_url: str, unique: str) -> None:
    # the raw escape hatch has the same auth, retries and errors
    assert client.request("GET", "/v1/me")["key"]["role"] == "admin"
    with pytest.raises(NotFoundError):
        client.request("GET", "/v1/webhooks/wh_missing")
    with pytest.raises(NotFoundError) as missing:
        client.webhooks.get("wh_missing")
    assert missing.value.code == "not_found" and missing.value.status == 404
    assert missing.value.request_id and missing.value.request_id.startswith("req_")
    assert "req_" in str(missing.value)
    with pytest.raises(BadRequestError) as bad:
        client.events.publish(f"nope.{unique}", {})
    assert bad.value.code == "unknown_event_type" and bad.value.details[0]["path"] == "type"
    with pytest.raises(BadRequestError) as invalid:
        client.webhooks.create("not a url")
    assert invalid.value.code == "validation_failed" and invalid.value.details[0]["path"] == "url"
    with pytest.raises(AuthenticationError) as unauth:
        Hookrelay(api_key="hrk_wrong", base_url=api_url).me()
    assert unauth.value.code == "unauthenticated" and isinstance(unauth.value, HookrelayError)


def test_publish_is_idempotent(client: Hookrelay, unique: str) -> None:
    name = f"py.once.{unique}"
    client.event_types.create(name)
    a = client.events.publish(name, {}, idempotency_key=f"k-{unique}")
    b = client.events.publish(name, {}, idempotency_key=f"k-{unique}")
    assert a["id"] == b["id"]
    batch = client.events.publish_batch([{"type": name, "data": {"i": 1}, "id": f"b1-{unique}"}, {"type": name, "data": {"i": 2}}],
                                        idempotency_key=f"batch-{unique}")
    again = client.events.publish_batch([{"type": name, "data": {"i": 1}, "id": f"b1-{unique}"}, {"type": name, "data": {"i": 2}}],
                                        idempotency_key=f"batch-{unique}")
    assert [e["id"] for e in again] == [e["id"] for e in batch]
    assert client.events.list(type=name).pagination["total"] == 3


def test_a_publish_whose_answer_is_lost_is_retried_with_the_same_key_and_stored_once(api_url: str, api_key: str, unique: str) -> None:
    name = f"py.lost.{unique}"
    keys: List[str] = []

    class LosesFirstAnswer(httpx.BaseTransport):
        """The real API applies the request; its first answer never reaches the client."""

        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/v1/events":
                keys.append(request.headers["idempotency-key"])
            response = self.inner.handle_request(request)
            if request.url.path == "/v1/events" and len(keys) == 1:
                response.read()
                raise httpx.ReadError("connection reset by peer")
            return response

    with Hookrelay(api_key=api_key, base_url=api_url, http_client=httpx.Client(transport=LosesFirstAnswer())) as lossy:
        lossy.event_types.create(name)
        event = lossy.events.publish(name, {"once": True})
    assert len(keys) == 2 and keys[0] == keys[1]
    with Hookrelay(api_key=api_key, base_url=api_url) as c:
        stored = c.events.list(type=name)
    assert stored.pagination["total"] == 1 and stored.data[0]["id"] == event["id"]


def test_an_ambiguous_post_without_idempotency_is_not_repeated() -> None:
    calls: List[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("connection refused")

    with Hookrelay(api_key="hrk_x", base_url="http://api.invalid", http_client=httpx.Client(transport=httpx.MockTransport(refuse))) as down:
        with pytest.raises(hookrelay.APIConnectionError) as err:
            down.webhooks.rotate_secret("wh_1")
    assert err.value.code == "network_error" and err.value.status == 0
    assert calls == ["/v1/webhooks/wh_1/rotate-secret"]


def test_retries_429_and_503_honouring_retry_after() -> None:
    calls: List[float] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(429, headers={"retry-after": "1"}, json={"error": {"code": "rate_limited", "message": "slow down"}})
        if len(calls) == 2:
            return httpx.Response(503, json={"error": {"code": "unavailable", "message": "later"}})
        return httpx.Response(200, json={"organization": {"id": "org_1", "name": "x"}, "key": {"id": "key_1", "role": "admin", "application_id": None}})

    with Hookrelay(api_key="hrk_x", base_url="http://api.invalid", http_client=httpx.Client(transport=httpx.MockTransport(flaky))) as c:
        assert c.me()["organization"]["id"] == "org_1"
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.95  # retry-after: 1

    def always_429(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "0", "x-request-id": "req_x"}, json={"error": {"code": "rate_limited", "message": "no"}, "request_id": "req_x"})

    with Hookrelay(api_key="hrk_x", base_url="http://api.invalid", max_retries=1, http_client=httpx.Client(transport=httpx.MockTransport(always_429))) as c:
        with pytest.raises(hookrelay.RateLimitError) as limited:
            c.me()
    assert limited.value.request_id == "req_x"


def test_pages_and_iterators(client: Hookrelay, receiver: Receiver, unique: str) -> None:
    name = f"py.page.{unique}"
    client.event_types.create(name)
    ids = {client.webhooks.create(receiver.url, events=[name], description=f"page-{i}")["id"] for i in range(5)}
    first = client.webhooks.list(event=name, per_page=2)
    assert len(first) == 2 and first.has_more and first.pagination["total"] == 5
    assert {w["id"] for w in client.webhooks.list_all(event=name)} == ids
    assert {w["id"] for w in client.paginate("/v1/webhooks", event=name, per_page=2)} == ids
    names = [t["name"] for t in client.event_types.list_all()]
    assert name in names and "webhook.test" in names
    client.event_types.update(name, deprecated=True)
    client.event_types.archive(name)
    assert name not in [t["name"] for t in client.event_types.list_all()]
    assert name in [t["name"] for t in client.event_types.list_all(include_archived=True)]


def test_erase_payload(client: Hookrelay, unique: str) -> None:
    name = f"py.erase.{unique}"
    client.event_types.create(name)
    event = client.events.publish(name, {"email": "someone@example.com"})
    erased = client.events.erase_payload(event["id"])
    assert erased["data"] is None and erased["erased_at"]
    assert event["id"] in [e["id"] for e in client.events.list_all(type=name)]




def test_the_installed_package_is_under_test() -> None:
    # npm test pip-installs sdks/python and runs this suite from elsewhere: not the source tree's modules.
    assert "site-packages" in (hookrelay.__file__ or "")
    assert hookrelay.__version__ == "0.1.0"
