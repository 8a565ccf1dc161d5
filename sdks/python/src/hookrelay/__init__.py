"""hookrelay: the client of the hookrelay API for producer services, synchronous and asyncio.

>>> from hookrelay import Hookrelay
>>> with Hookrelay(api_key="hrk_…", base_url="http://127.0.0.1:3000") as hookrelay:
...     event = hookrelay.events.publish(type="invoice.paid", data={"invoice": "A-1"}, application="acme")

Receivers verify what arrives with ``verify_webhook(body, headers, secret)``.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Union

from ._async_client import AsyncHookrelay
from ._client import Hookrelay
from .errors import (
    APIConnectionError, AuthenticationError, BadRequestError, ConflictError, HookrelayError, NotFoundError, PermissionDeniedError,
    RateLimitError, UnavailableError, WebhookVerificationError,
)
from .types import Page
from .verify import sign, verify_webhook

__version__ = "0.1.0"


def operations(client: Union[Hookrelay, AsyncHookrelay]) -> Dict[str, Callable[..., Any]]:
    """Every API operation ("METHOD /path", as in /openapi.json) and the client's method that calls it."""
    found: Dict[str, Callable[..., Any]] = {}
    for owner in [client, *(v for v in vars(client).values() if hasattr(v, "_c"))]:
        for _, member in inspect.getmembers(owner, callable):
            op = getattr(member, "__hookrelay_operation__", None)
            if op:
                found[op] = member
    return found


__all__ = [
    "Hookrelay", "AsyncHookrelay", "Page", "operations", "verify_webhook", "sign",
    "HookrelayError", "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError",
    "RateLimitError", "UnavailableError", "APIConnectionError", "WebhookVerificationError",
]
