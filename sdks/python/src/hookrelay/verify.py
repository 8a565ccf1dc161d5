"""Receiver side: Standard Webhooks verification of what hookrelay's worker sends.

Every request carries ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
(``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``; for 24 h after a rotation two signatures,
space-separated: by the new and by the previous secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Mapping, Optional, Sequence, Union

from .errors import WebhookVerificationError

DEFAULT_TOLERANCE_S = 300


def _key(secret: str) -> bytes:
    """The HMAC key of a secret: the base64 part of ``whsec_…``, or the raw bytes of a secret you chose."""
    if secret.startswith("whsec_"):
        try:
            decoded = base64.b64decode(secret[6:], validate=False)
        except ValueError:
            decoded = b""
        if decoded:
            return decoded
    return secret.encode("utf-8")


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    value = headers.get(name)
    if value is None:  # a plain dict with other capitalisation (frameworks' header objects ignore case already)
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def sign(secret: str, msg_id: str, timestamp: int, body: Union[str, bytes]) -> str:
    """The ``v1,…`` signature hookrelay sends for this id, timestamp and body (useful in your own tests)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify_webhook(
    body: Union[str, bytes],
    headers: Mapping[str, str],
    secret: Union[str, Sequence[str]],
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: Optional[float] = None,
) -> Any:
    """Verifies a webhook and returns its parsed JSON body; raises ``WebhookVerificationError`` otherwise.

    ``body`` is the raw request body, exactly as received (verify before parsing). ``secret`` is the webhook's
    secret, or several (e.g. ``[current, previous]`` while you roll a rotation out): any one matching is enough.
    The timestamp must be within ``tolerance_s`` seconds of ``now`` (default: the clock), both ways, so a
    captured request cannot be replayed later. Comparison is constant-time.
    """
    msg_id = _header(headers, "webhook-id")
    ts = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or not ts or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(ts)
    except ValueError:
        raise WebhookVerificationError("invalid webhook-timestamp") from None
    current = int(time.time() if now is None else now)
    if abs(current - timestamp) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("verify_webhook: no secret given")
    expected = [sign(s, msg_id, timestamp, raw)[3:].encode() for s in secrets]
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version != "v1" or not value:
            continue
        given = value.encode()
        if any(hmac.compare_digest(given, e) for e in expected):
            return json.loads(raw)
    raise WebhookVerificationError("no matching signature")
