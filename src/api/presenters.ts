import type { ApiKeyDoc, ApplicationDoc, AttemptDoc, DeliveryDoc, EventDoc, HealthStatus, RecoveryDoc, WebhookDoc } from '../services/models.js';
import { SECRET_HEADER_MASK } from '../domain/secret-headers.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** `secret`: the signing secret and the secret header values in full (creation, rotation, include_secret=true); else null and masked. */
export function webhookOut(wh: WebhookDoc, health: HealthStatus, opts: { secret?: boolean } = {}) {
  return {
    id: wh._id,
    application_id: wh.application_id ?? null,
    uid: wh.uid,
    url: wh.url,
    description: wh.description,
    events: wh.events,
    channels: wh.channels,
    filter: wh.filter ? JSON.parse(wh.filter) : null,
    headers: Object.fromEntries(wh.headers.map((h) => [h.name, h.secret && !opts.secret ? SECRET_HEADER_MASK : h.value])),
    secret_headers: wh.headers.filter((h) => h.secret).map((h) => h.name),
    retry_schedule: wh.retry_schedule,
    timeout_ms: wh.timeout_ms,
    rate_limit_per_s: wh.rate_limit_per_s,
    max_in_flight: wh.max_in_flight ?? null,
    status: wh.status,
    disabled: wh.status === 'disabled',
    disabled_reason: wh.disabled_reason,
    health_status: health,
    secret: opts.secret ? wh.secret : null,
    created_at: wh.created_at.toISOString(),
    updated_at: wh.updated_at.toISOString(),
  };
}

export function attemptOut(a: AttemptDoc) {
  return {
    id: a._id,
    attempt: a.attempt,
    status_code: a.status_code,
    duration_ms: a.duration_ms,
    error: a.error,
    response_body: a.response_body,
    created_at: a.created_at.toISOString(),
    sends: a.sends ?? 1,
    in_flight: a.in_flight ?? false,
  };
}

export function deliveryOut(d: DeliveryDoc, event: EventDoc | undefined, attempts?: AttemptDoc[]) {
  return {
    id: d._id,
    application_id: d.application_id ?? null,
    webhook_id: d.webhook_id,
    event_id: d.event_id,
    event: d.event_type,
    payload: event ? JSON.parse(event.body) : null,
    status: d.status,
    attempt: d.attempt,
    status_code: d.status_code,
    next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    delivered_at: iso(d.delivered_at),
    created_at: d.created_at.toISOString(),
    workflow_id: d.workflow_id,
    // Only an open delivery waits; a stale marker on an ended one is not shown (as next_attempt_at).
    waiting: d.status === 'pending' && d.waiting ? { reason: d.waiting.reason, since: new Date(d.waiting.since).toISOString() } : null,
    ...(attempts ? { attempts: attempts.map(attemptOut) } : {}),
  };
}

export function recoveryOut(r: RecoveryDoc) {
  return {
    id: r._id,
    webhook_id: r.webhook_id,
    since: iso(r.since),
    release: r.release ?? false,
    until: iso(r.until),
    status: r.status,
    recovered: r.recovered,
  };
}

export function eventOut(e: EventDoc) {
  const body = JSON.parse(e.body);
  return {
    id: e._id,
    application_id: e.application_id ?? null,
    type: e.type,
    timestamp: e.timestamp.toISOString(),
    channels: e.channels,
    raw: e.raw,
    data: e.raw ? body : body.data,
    created_at: e.created_at.toISOString(),
    erased_at: iso(e.erased_at),
  };
}

export function applicationOut(a: ApplicationDoc) {
  return {
    id: a._id,
    uid: a.uid,
    name: a.name,
    metadata: a.metadata,
    rate_limit_per_s: a.rate_limit_per_s,
    created_at: a.created_at.toISOString(),
    updated_at: a.updated_at.toISOString(),
  };
}

/** A key as listed: never the key itself, only its first characters. */
export function keyOut(k: ApiKeyDoc) {
  return {
    id: k._id,
    name: k.name,
    role: k.role,
    application_id: k.application_id ?? null,
    prefix: k.prefix,
    expires_at: iso(k.expires_at),
    last_used_at: iso(k.last_used_at),
    created_at: k.created_at.toISOString(),
  };
}
