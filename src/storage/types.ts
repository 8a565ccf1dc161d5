// One document shape per collection. Customer payloads and filters are stored as JSON strings: FerretDB (and
// careful MongoDB use) forbids keys with "." or "$", and a string keeps the delivered body byte-exact.
import type { WaitReason } from '../domain/fair-gate.js';
import type { AppId, AttemptId, DeliveryId, EventId, KeyId, OrgId, RecoveryId, WebhookId } from '../domain/ids.js';

/** admin: everything of its organization; publisher: publish; application: one application's webhooks and log. */
export type Role = 'admin' | 'publisher' | 'application';

/** One customer of the producer (an organization): its webhooks, events and deliveries are its own. */
export type ApplicationDoc = {
  _id: AppId;
  org_id: OrgId;
  uid: string | null;
  name: string;
  metadata: Record<string, string>;
  rate_limit_per_s: number | null;
  created_at: Date;
  updated_at: Date;
};

/** Claims an application uid within an organization (`_id` = `<org>:<uid>`): unique without a secondary index. */
export type ApplicationUidDoc = { _id: string; org_id: OrgId; application_id: AppId; created_at: Date };

/** An organization; the optional settings override the deployment's (set by an operator: `hookrelay org set`). */
export type OrgDoc = {
  _id: OrgId;
  name: string;
  created_at: Date;
  /** Deliveries leave through this HTTP(S) CONNECT proxy (null: the deployment's EGRESS_PROXY_URL, if any). */
  egress_proxy_url?: string | null;
  /** Events, deliveries and attempts are kept this long (null: the deployment's RETENTION_DAYS). */
  retention_days?: number | null;
};

export type ApiKeyDoc = {
  _id: KeyId;
  org_id: OrgId;
  role: Role;
  hash: string;
  prefix: string;
  name: string | null;
  /** Set for role `application`: the one application the key can see. */
  application_id?: AppId | null;
  /** `portal_session`: a short-lived application key behind a portal link (listed apart from keys). */
  kind?: 'key' | 'portal_session';
  expires_at?: Date | null;
  last_used_at?: Date | null;
  created_at: Date;
  revoked_at: Date | null;
};

export type EventTypeDoc = {
  _id: string;
  org_id: OrgId;
  name: string;
  description: string;
  schema: string | null;
  deprecated: boolean;
  replaced_by: string | null;
  archived: boolean;
  created_at: Date;
  updated_at: Date;
};

export type WebhookHeader = {
  name: string;
  value: string;
  secret?: boolean;
  /** Only on a document as read: a secret value still stored in plaintext (from before it was sealed); the next write seals it. */
  unsealed?: boolean;
};

export type WebhookStatus = 'active' | 'disabled';
export type DisabledReason = 'user' | 'failing' | 'gone' | null;

export type WebhookDoc = {
  _id: WebhookId;
  org_id: OrgId;
  /** The application (customer) it belongs to; null = an organization-level webhook. Fixed at creation. */
  application_id?: AppId | null;
  uid: string | null;
  url: string;
  description: string;
  events: string[] | null;
  channels: string[] | null;
  filter: string | null;
  /**
   * {name, value} pairs: FerretDB forbids nested arrays, and header names may contain ".". `secret`: a credential
   * (a name of src/domain/secret-headers.ts, or marked by the user): its value is sealed at rest (only the webhooks
   * repository seals and opens it) and shown masked. Entries stored before `secret` existed are judged by their name.
   */
  headers: WebhookHeader[];
  retry_schedule: string[];
  timeout_ms: number;
  rate_limit_per_s: number | null;
  /**
   * Attempts in flight to this endpoint at once, per worker process (null or absent: the deployment's default,
   * WEBHOOK_DEFAULT_MAX_IN_FLIGHT). Deliveries beyond it wait durably without burning an attempt (docs/architecture.md,
   * "Fairness"); 1 sends one request at a time.
   */
  max_in_flight?: number | null;
  status: WebhookStatus;
  disabled_reason: DisabledReason;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

export type EventDoc = {
  _id: EventId;
  org_id: OrgId;
  /** The application it was published to; null = organization-level (goes only to organization-level webhooks). */
  application_id?: AppId | null;
  type: string;
  timestamp: Date;
  channels: string[] | null;
  /** exactly the bytes every delivery sends */
  body: string;
  raw: boolean;
  /** webhooks matched at publish time: the fan-out sweep finishes from this list after a crash */
  matched: WebhookId[];
  created_at: Date;
  /** Its payload was erased on request (privacy): `body` no longer holds the data; it is never sent again. */
  erased_at?: Date | null;
};

/**
 * `paused`: held while its webhook is paused by its owner (released in order on resume); `skipped`: published while
 * its webhook was disabled automatically (re-delivered by a recovery that covers it).
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'paused' | 'skipped' | 'cancelled';

export type DeliveryDoc = {
  _id: DeliveryId;
  org_id: OrgId;
  application_id?: AppId | null;
  /** true while no workflow runs for it (held by a paused webhook, or skipped): a release or recovery starts one. */
  held?: boolean;
  /** The release (a resume's task) that took it out of the held state. */
  released_by?: RecoveryId | null;
  /** The recovery that set it pending again, and its attempt count then (a recovery restarted mid-way finds it). */
  retried_by?: RecoveryId | null;
  retry_from?: number | null;
  webhook_id: WebhookId;
  event_id: EventId;
  event_type: string;
  status: DeliveryStatus;
  attempt: number;
  status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  ended_at: Date | null;
  created_at: Date;
  updated_at: Date;
  workflow_id: string;
  /**
   * Set while its next attempt waits for room to be sent (not an attempt of its schedule): the endpoint's attempts in
   * flight are at its bound, or its application has its fair share of the worker's capacity. Cleared when it is sent.
   */
  waiting?: { reason: WaitReason; since: Date } | null;
};

/** Why a delivery's attempt waits to be sent (docs/architecture.md, "Fairness"). */
export type { WaitReason };

/** The endpoint's failures, then hookrelay's own path's (proxy, resolver: not the customer's; activities/egress.ts). */
export type AttemptError = 'timeout' | 'connection_refused' | 'dns' | 'tls' | 'blocked_address' | 'http_status' | 'proxy_unavailable' | 'resolver_unavailable';

export type AttemptDoc = {
  _id: AttemptId;
  org_id: OrgId;
  delivery_id: DeliveryId;
  webhook_id: WebhookId;
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  error: AttemptError | null;
  response_body: string | null;
  created_at: Date;
  /**
   * How many times this attempt's request left hookrelay: 1, or more when a worker died after sending and the
   * attempt ran again (same attempt number, same webhook-id). Absent on records from before it was counted (1).
   */
  sends?: number;
  /** Written before the request is sent, cleared when its outcome is recorded. */
  in_flight?: boolean;
  /**
   * The workflow run that made the attempt, and the answer's Retry-After header: a re-run of the same attempt by
   * the same run (Temporal running the local activity again) takes the recorded answer instead of sending again.
   */
  run_id?: string | null;
  retry_after?: string | null;
};

/**
 * A fan-out not yet finished: written before its event, deleted when every workflow has started. `owner`: the API
 * process whose start queue holds the fan-out (others' sweeps leave it while it is alive).
 */
export type OutboxDoc = { _id: EventId; org_id: OrgId; created_at: Date; owner?: string };

/** An API process that is alive (`seen_at` renewed every few seconds): its queued fan-outs are its own. */
export type InstanceDoc = { _id: string; seen_at: Date };

/** Which webhook holds a customer source's uid: keyed `<org>:<uid>`, so "one webhook per uid" is a unique _id. */
export type WebhookUidDoc = { _id: string; org_id: OrgId; webhook_id: WebhookId; created_at: Date };

export type IdempotencyDoc = { _id: string; org_id: OrgId; event_id: EventId; created_at: Date };

export type RecoveryDoc = {
  _id: RecoveryId;
  org_id: OrgId;
  webhook_id: WebhookId;
  /** A resume's task: first release the held deliveries in publication order (then recover [since, until) if set). */
  release?: boolean;
  since: Date | null;
  until: Date | null;
  status: 'running' | 'completed';
  recovered: number;
  created_at: Date;
  completed_at: Date | null;
};

/**
 * A webhook whose attempts have been failing since `since` (no success in between). Kept apart from the webhook
 * document so that delivery attempts never write the webhook: FerretDB applies an update as read-modify-write of
 * the whole document, and an attempt's write could otherwise undo a concurrent pause or edit.
 */
export type WebhookFailingDoc = {
  _id: WebhookId;
  org_id: OrgId;
  since: Date;
};

/**
 * A webhook's recent attempt outcomes, summed by the hour: what its health is read from, so that listing webhooks
 * reads one small document per webhook and never its deliveries (FerretDB would scan them). Written by the worker
 * after attempts (services/health.ts), never by the API; kept apart from the webhook document for the same reason as
 * WebhookFailingDoc.
 */
export type WebhookHealthDoc = {
  _id: WebhookId;
  org_id: OrgId;
  /** Finished attempts per hour (`at` = the start of the hour), the last 24 h, newest first. */
  hours: { at: Date; ok: number; failed: number }[];
  /** The most recent finished attempts, newest first (at most 10). */
  recent: { ok: boolean; at: Date }[];
  /** Failed attempts in a row up to the latest. */
  streak?: number;
  updated_at: Date;
};

/** An alert sent once (`_id` names it, e.g. `<webhook>:<failing since>:failing`): insert-only, so once is once. */
export type AlertDoc = { _id: string; org_id: OrgId; created_at: Date };

/** The revision of an organization's webhooks; changes whenever any of them does (see webhook-index.ts). */
export type WebhookRevDoc = {
  _id: OrgId;
  /** The webhooks' revision (a new random token at every webhook change). */
  rev: string;
  /** The event type catalog's revision (a new token at every catalog change). */
  types_rev?: string;
  updated_at: Date;
};
