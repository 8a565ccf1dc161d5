// The API's shapes as the SDK sees them (mirroring the zod schemas in src/api/*.schema.ts and docs/api.md).
export type Role = 'admin' | 'publisher' | 'application';
/** `slow`: not failing, but most of the latest attempts timed out or took longer than 5 s. */
export type HealthStatus = 'healthy' | 'slow' | 'degraded' | 'failing' | 'unknown';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'paused' | 'skipped' | 'cancelled';
/** The endpoint's failures, then hookrelay's own path's (proxy_unavailable, resolver_unavailable: not counted against the endpoint). */
export type AttemptError = 'timeout' | 'connection_refused' | 'dns' | 'tls' | 'blocked_address' | 'http_status' | 'proxy_unavailable' | 'resolver_unavailable';

export type Pagination = { page: number; per_page: number; total: number; has_more: boolean };
export type Page<T> = { data: T[]; pagination: Pagination; request_id: string };
export type PageQuery = { page?: number; per_page?: number };

export type Me = { organization: { id: string; name: string }; key: { id: string; role: Role; application_id: string | null } };

export type ApplicationIn = { name: string; uid?: string | null; metadata?: Record<string, string>; rate_limit_per_s?: number | null };
export type Application = { id: string; uid: string | null; name: string; metadata: Record<string, string>; rate_limit_per_s: number | null; created_at: string; updated_at: string };
export type ApplicationStats = {
  window: string;
  attempts: { succeeded: number; failed: number };
  /** succeeded / (succeeded + failed) attempts, as in WebhookStats; null without any. */
  success_rate: number | null;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  webhooks: { id: string; uid: string | null; url: string; status: 'active' | 'disabled'; health_status: HealthStatus }[];
};
export type ApiKeyIn = { role: Role; application?: string; name?: string; expires_at?: string };
export type ApiKey = {
  id: string; name: string | null; role: Role; application_id: string | null; prefix: string; expires_at: string | null;
  last_used_at: string | null; created_at: string; key?: string;
};

export type EventTypeIn = { name: string; description?: string; schema?: object | null; deprecated?: boolean; replaced_by?: string | null };
export type EventTypePatch = Partial<Omit<EventTypeIn, 'name'>>;
export type EventType = Required<Omit<EventTypeIn, 'schema'>> & { schema: object | null; archived: boolean; created_at: string; updated_at: string };

export type WebhookIn = {
  url: string;
  /** The application (id or uid) it belongs to; absent = organization-level. */
  application?: string | null;
  events?: string[] | null;
  channels?: string[] | null;
  filter?: Record<string, unknown> | null;
  /**
   * Sent on every delivery. Values of secret headers (Authorization, API keys, tokens, cookies, …, and those in
   * `secret_headers`) are stored encrypted and answered as "••••••••"; sending that back keeps the stored value.
   */
  headers?: Record<string, string>;
  /** More of `headers` whose values are secret, beside those secret by name; null = none more (a patch without it keeps the marks). */
  secret_headers?: string[] | null;
  secret?: string;
  retry_schedule?: string[];
  timeout_ms?: number;
  rate_limit_per_s?: number | null;
  /**
   * Attempts in flight to this endpoint at once, per worker process (1–1000); null = the deployment default
   * (WEBHOOK_DEFAULT_MAX_IN_FLIGHT). Deliveries beyond it wait durably without burning an attempt.
   */
  max_in_flight?: number | null;
  uid?: string | null;
  description?: string;
};
export type WebhookPatch = Partial<WebhookIn> & { disabled?: boolean; recover_since?: string };

export type Attempt = {
  id: string;
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  error: AttemptError | null;
  response_body: string | null;
  created_at: string;
};

/** Why a delivery's next attempt waits to be sent: the fairness gate, or hookrelay's own egress proxy or DNS resolver failing. */
export type WaitReason = 'endpoint_in_flight' | 'application_share' | 'worker_capacity' | 'proxy_unavailable' | 'resolver_unavailable';

export type Delivery = {
  id: string;
  application_id: string | null;
  webhook_id: string;
  event_id: string;
  event: string;
  payload: unknown;
  status: DeliveryStatus;
  attempt: number;
  status_code: number | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
  workflow_id: string;
  /** Set while the next attempt waits for room to be sent (burns no attempt); null otherwise. */
  waiting: { reason: WaitReason; since: string } | null;
  attempts?: Attempt[];
};

export type Recovery = { id: string; webhook_id: string; release: boolean; since: string | null; until: string | null; status: 'running' | 'completed'; recovered: number };

export type Webhook = {
  id: string;
  application_id: string | null;
  uid: string | null;
  url: string;
  description: string;
  events: string[] | null;
  channels: string[] | null;
  filter: Record<string, unknown> | null;
  /** Secret values masked ("••••••••"), in full only on creation and with the secret asked for. */
  headers: Record<string, string>;
  /** The headers whose values are secret. */
  secret_headers: string[];
  retry_schedule: string[];
  timeout_ms: number;
  rate_limit_per_s: number | null;
  /** null = the deployment default. */
  max_in_flight: number | null;
  status: 'active' | 'disabled';
  disabled: boolean;
  disabled_reason: 'user' | 'failing' | 'gone' | null;
  health_status: HealthStatus;
  secret: string | null;
  created_at: string;
  updated_at: string;
  recent_deliveries?: Delivery[];
  recovery?: Recovery;
};

export type WebhookStats = {
  window: string;
  /** Finished attempts in the window. */
  attempts: { succeeded: number; failed: number };
  /** succeeded / (succeeded + failed) attempts, as in ApplicationStats; null without any. */
  success_rate: number | null;
  /** Deliveries created in the window, by their state now. */
  deliveries: { delivered: number; failed: number; pending: number };
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  health_status: HealthStatus;
  last_success_at: string | null;
  last_failure_at: string | null;
};

export type EventIn = { application?: string; type: string; data: unknown; id?: string; channels?: string[]; timestamp?: string; raw?: boolean };
export type Published = { id: string; type: string; timestamp: string; deliveries: number };
export type Event = { id: string; application_id: string | null; type: string; timestamp: string; channels: string[] | null; raw: boolean; data: unknown; created_at: string;
  /** set once the payload was erased (data is then null) */
  erased_at: string | null; deliveries?: Delivery[] };
