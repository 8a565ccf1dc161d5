"""The API's shapes as the SDK returns them: JSON objects, typed (they mirror docs/api.md and /openapi.json).

Answers are plain dicts with the API's snake_case keys, typed as ``TypedDict`` so that editors and type
checkers know every field. Request parameters are keyword arguments, typed by the ``*Params`` dicts below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Generic, Iterator, List, Literal, Optional, TypeVar

from typing_extensions import NotRequired, TypedDict

Role = Literal["admin", "publisher", "application"]
HealthStatus = Literal["healthy", "slow", "degraded", "failing", "unknown"]
DeliveryStatus = Literal["pending", "delivered", "failed", "paused", "skipped", "cancelled"]
WebhookStatus = Literal["active", "disabled"]


class Pagination(TypedDict):
    page: int
    per_page: int
    total: int
    has_more: bool


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of a list: ``data``, ``pagination`` (``page``, ``per_page``, ``total``, ``has_more``)."""

    data: List[T]
    pagination: Pagination
    request_id: Optional[str] = None

    @property
    def has_more(self) -> bool:
        return self.pagination["has_more"]

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class MeOrganization(TypedDict):
    id: str
    name: str


class MeKey(TypedDict):
    id: str
    role: Role
    application_id: Optional[str]


class Me(TypedDict):
    organization: MeOrganization
    key: MeKey


class Application(TypedDict):
    id: str
    uid: Optional[str]
    name: str
    metadata: Dict[str, str]
    rate_limit_per_s: Optional[int]
    created_at: str
    updated_at: str


class LatencyMs(TypedDict):
    p50: Optional[float]
    p95: Optional[float]
    p99: Optional[float]


class ApplicationStats(TypedDict):
    window: str
    attempts: Dict[str, int]
    success_rate: Optional[float]
    latency_ms: LatencyMs
    webhooks: List[Dict[str, Any]]


class ApiKey(TypedDict):
    id: str
    name: Optional[str]
    role: Role
    application_id: Optional[str]
    prefix: str
    expires_at: Optional[str]
    last_used_at: Optional[str]
    created_at: str
    key: NotRequired[str]
    """the full key: only in the answer to ``keys.create``"""


class PortalSession(TypedDict):
    id: str
    application_id: str
    url: str
    token: str
    expires_at: str


class EventType(TypedDict):
    name: str
    description: str
    schema: Optional[Dict[str, Any]]
    deprecated: bool
    replaced_by: Optional[str]
    archived: bool
    created_at: str
    updated_at: str


class Attempt(TypedDict):
    id: str
    attempt: int
    status_code: Optional[int]
    duration_ms: int
    error: Optional[str]
    response_body: Optional[str]
    created_at: str


class Waiting(TypedDict):
    reason: Literal["endpoint_in_flight", "application_share", "worker_capacity", "proxy_unavailable", "resolver_unavailable"]
    since: str


class Delivery(TypedDict):
    id: str
    application_id: Optional[str]
    webhook_id: str
    event_id: str
    event: str
    payload: Any
    status: DeliveryStatus
    attempt: int
    status_code: Optional[int]
    next_attempt_at: Optional[str]
    delivered_at: Optional[str]
    created_at: str
    workflow_id: str
    waiting: Optional[Waiting]
    attempts: NotRequired[List[Attempt]]


class Recovery(TypedDict):
    id: str
    webhook_id: str
    release: bool
    since: Optional[str]
    until: Optional[str]
    status: Literal["running", "completed"]
    recovered: int


class Webhook(TypedDict):
    id: str
    application_id: Optional[str]
    uid: Optional[str]
    url: str
    description: str
    events: Optional[List[str]]
    channels: Optional[List[str]]
    filter: Optional[Dict[str, Any]]
    headers: Dict[str, str]
    """values of secret headers masked (``"••••••••"``), in full only on creation and with ``include_secret``"""
    secret_headers: List[str]
    """the headers whose values are secret (stored encrypted, shown masked)"""
    retry_schedule: List[str]
    timeout_ms: int
    rate_limit_per_s: Optional[int]
    max_in_flight: Optional[int]
    status: WebhookStatus
    disabled: bool
    disabled_reason: Optional[Literal["user", "failing", "gone"]]
    health_status: HealthStatus
    secret: Optional[str]
    """in full only on creation, rotation and ``get(id, include_secret=True)``"""
    created_at: str
    updated_at: str
    recent_deliveries: NotRequired[List[Delivery]]
    recovery: NotRequired[Recovery]


class WebhookStats(TypedDict):
    window: str
    deliveries: Dict[str, int]
    success_rate: Optional[float]
    latency_ms: LatencyMs
    health_status: HealthStatus
    last_success_at: Optional[str]
    last_failure_at: Optional[str]


class Published(TypedDict):
    id: str
    type: str
    timestamp: str
    deliveries: int
    """how many webhooks the event matched"""


class Event(TypedDict):
    id: str
    application_id: Optional[str]
    type: str
    timestamp: str
    channels: Optional[List[str]]
    raw: bool
    data: Any
    created_at: str
    erased_at: Optional[str]
    deliveries: NotRequired[List[Delivery]]


# ---- request parameters (keyword arguments) -------------------------------------------------------------


class PageParams(TypedDict, total=False):
    page: int
    per_page: int


class ApplicationFields(TypedDict, total=False):
    metadata: Dict[str, str]
    rate_limit_per_s: Optional[int]


class ApplicationParams(ApplicationFields, total=False):
    uid: Optional[str]
    """your own id for this customer; usable wherever the application id is"""


class ApplicationUpdateParams(ApplicationParams, total=False):
    name: str


class ApplicationListParams(PageParams, total=False):
    uid: str
    q: str


class KeyParams(TypedDict, total=False):
    application: str
    name: str
    expires_at: str


class EventTypeParams(TypedDict, total=False):
    description: str
    schema: Optional[Dict[str, Any]]
    deprecated: bool
    replaced_by: Optional[str]


class WebhookFields(TypedDict, total=False):
    application: Optional[str]
    """the application (id or uid) it belongs to; absent: organization-level"""
    events: Optional[List[str]]
    channels: Optional[List[str]]
    filter: Optional[Dict[str, Any]]
    headers: Dict[str, str]
    """sent on every delivery; a secret header's value sent back as ``"••••••••"`` keeps the stored one"""
    secret_headers: Optional[List[str]]
    """more of ``headers`` whose values are secret, beside those secret by name (Authorization, API keys, tokens, …)"""
    secret: str
    retry_schedule: List[str]
    timeout_ms: int
    rate_limit_per_s: Optional[int]
    max_in_flight: Optional[int]
    description: str


class WebhookParams(WebhookFields, total=False):
    uid: Optional[str]
    """a customer source's id: ``register(uid, …)`` again replaces this webhook"""


class WebhookUpdateParams(WebhookParams, total=False):
    url: str
    disabled: bool
    recover_since: str


class WebhookListParams(PageParams, total=False):
    status: WebhookStatus
    event: str
    uid: str
    application: str


class DeliveryListParams(PageParams, total=False):
    status: DeliveryStatus
    event: str
    since: str
    until: str


class AppDeliveryListParams(PageParams, total=False):
    status: DeliveryStatus
    event_type: str
    since: str
    until: str


class EventListParams(PageParams, total=False):
    type: str
    application: str
    since: str
    until: str


class EventIn(TypedDict, total=False):
    """One event of ``events.publish_batch``; give it an ``id`` to make the batch safe to retry."""

    type: str
    data: Any
    application: str
    id: str
    channels: List[str]
    timestamp: str
    raw: bool

