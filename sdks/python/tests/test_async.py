"""The asyncio client against the real stack: the same calls, awaited (no plugin needed: asyncio.run)."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone
from typing import List

import pytest

from hookrelay import AsyncHookrelay, NotFoundError, verify_webhook
from hookrelay.types import Recovery

from .conftest import Receiver


def test_async_publish_list_verify_and_errors(api_url: str, api_key: str, receiver: Receiver, unique: str) -> None:
    async def main() -> None:
        async with AsyncHookrelay(api_key=api_key, base_url=api_url) as client:
            name = f"py.async.{unique}"
            await client.event_types.create(name)
            app = await client.applications.upsert(f"async-{unique}", f"Async {unique}")
            wh = await client.applications.create_webhook(app["id"], receiver.url, events=[name])
            # concurrent publishes, each with its own idempotency key
            published = await asyncio.gather(*(client.events.publish(name, {"i": i}, application=app["id"]) for i in range(3)))
            assert len({p["id"] for p in published}) == 3
            batch = await client.events.publish_batch([{"type": name, "data": {"i": 9}, "application": app["id"]}])
            assert batch[0]["deliveries"] == 1
            got = await asyncio.to_thread(receiver.wait_for, 4)
            secret = wh["secret"]
            assert secret is not None
            assert sorted(verify_webhook(r.body, r.headers, secret)["data"]["i"] for r in got) == [0, 1, 2, 9]
            listed = [e["id"] async for e in client.events.list_all(type=name)]
            assert sorted(listed) == sorted([p["id"] for p in published] + [batch[0]["id"]])
            page = await client.events.list(type=name, per_page=2)
            assert len(page) == 2 and page.has_more
            session = await client.applications.create_portal_session(app["id"])
            assert session["application_id"] == app["id"]
            await client.applications.end_portal_session(app["id"], session["id"])
            with pytest.raises(NotFoundError) as missing:
                await client.deliveries.get("dlv_missing")
            assert missing.value.request_id and missing.value.request_id.startswith("req_")
            await client.applications.delete(app["id"])

    asyncio.run(main())


def test_async_recover_with_progress(api_url: str, api_key: str, receiver: Receiver, unique: str) -> None:
    up = threading.Event()
    receiver.status = lambda n: 200 if up.is_set() else 500

    async def main() -> None:
        async with AsyncHookrelay(api_key=api_key, base_url=api_url) as client:
            name = f"py.arecover.{unique}"
            await client.event_types.create(name)
            wh = await client.webhooks.create(receiver.url, events=[name], retry_schedule=[])
            since = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            await client.events.publish(name, {})
            for _ in range(300):
                if (await client.webhooks.list_deliveries(wh["id"], status="failed")).data:
                    break
                await asyncio.sleep(0.1)
            up.set()
            rec = await client.webhooks.recover(wh["id"], since=since)
            seen: List[str] = []

            async def progress(r: Recovery) -> None:
                seen.append(r["status"])

            done = await client.wait_for_recovery(wh["id"], rec["id"], on_progress=progress, interval=0.2)
            assert done["status"] == "completed" and done["recovered"] == 1 and seen[-1] == "completed"
            await asyncio.to_thread(receiver.wait_for, 2)

    asyncio.run(main())
