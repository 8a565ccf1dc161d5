"""verify_webhook on its own: signatures made by hand the way the worker makes them."""

from __future__ import annotations

import base64
import json
import time
from typing import Dict

import pytest

from hookrelay import WebhookVerificationError, sign, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
BODY = json.dumps({"id": "evt_1", "type": "case.complete", "data": {"case_id": "prn_1"}})


def headers(ts: int, *secrets: str) -> Dict[str, str]:
    return {"webhook-id": "evt_1", "webhook-timestamp": str(ts), "webhook-signature": " ".join(sign(s, "evt_1", ts, BODY) for s in secrets)}


def test_accepts_str_or_bytes_and_any_header_case() -> None:
    now = int(time.time())
    assert verify_webhook(BODY, headers(now, SECRET), SECRET) == json.loads(BODY)
    upper = {k.upper(): v for k, v in headers(now, SECRET).items()}
    assert verify_webhook(BODY.encode(), upper, SECRET)["id"] == "evt_1"


def test_the_tolerance_is_five_minutes_both_ways() -> None:
    now = int(time.time())
    assert verify_webhook(BODY, headers(now - 240, SECRET), SECRET)
    for ts in (now - 360, now + 360):
        with pytest.raises(WebhookVerificationError, match="tolerance"):
            verify_webhook(BODY, headers(ts, SECRET), SECRET)
    assert verify_webhook(BODY, headers(now - 3600, SECRET), SECRET, tolerance_s=7200)


def test_several_signatures_and_several_secrets() -> None:
    now = int(time.time())
    previous = "whsec_" + base64.b64encode(b"p" * 32).decode()
    both = headers(now, SECRET, previous)
    assert verify_webhook(BODY, both, SECRET) and verify_webhook(BODY, both, previous)
    assert verify_webhook(BODY, headers(now, previous), [SECRET, previous])
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, {**both, "webhook-signature": "v2,abc v1,AAAA"}, SECRET)
    with pytest.raises(WebhookVerificationError, match="invalid webhook-timestamp"):
        verify_webhook(BODY, {**both, "webhook-timestamp": "soon"}, SECRET)
