import { registry, rfc3339, UNTIL_AFTER_SINCE, untilAfterSince, z } from './openapi.js';
import { ALWAYS_SECRET_HEADERS, SECRET_HEADER_MASK } from '../domain/secret-headers.js';

const RESERVED_HEADER = /^(webhook-.*|content-type|content-length|host|user-agent|transfer-encoding|connection)$/i;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// An HTTP field value: visible ASCII, spaces and tabs, and obs-text; no NUL, CR, LF or other control characters.
// Or the mask a secret header's value is shown as, sent back to keep the stored value.
const HEADER_VALUE = new RegExp(`^(?:[\\t\\x20-\\x7e\\x80-\\xff]*|${SECRET_HEADER_MASK})$`);

const SECRET_HEADERS_NOTE = `Values of secret headers are stored encrypted and shown as "${SECRET_HEADER_MASK}" (in full only with include_secret=true); sending "${SECRET_HEADER_MASK}" back as a header's value keeps its stored value. Secret: ${ALWAYS_SECRET_HEADERS.join(', ')}, any name containing auth, token, secret, passw, api-key, cookie, session, credential or signature, and those listed in secret_headers`;

export const Headers = z
  .record(z.string().max(4096).regex(HEADER_VALUE, 'header values may not contain control characters (NUL, CR, LF, …)'))
  .superRefine((h, ctx) => {
    for (const name of Object.keys(h)) {
      if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a valid header name` });
      else if (RESERVED_HEADER.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is set by hookrelay and cannot be overridden` });
    }
    if (Object.keys(h).length > 20) ctx.addIssue({ code: 'custom', message: 'at most 20 custom headers' });
  })
  .openapi({ example: { Authorization: 'Bearer 123' }, description: `sent on every delivery. ${SECRET_HEADERS_NOTE}` });

/** More header names whose values are secret (beside those secret by name); each must be one of the webhook's headers. */
const SecretHeaders = z
  .array(z.string().min(1).max(256).regex(HEADER_NAME, 'must be a header name'))
  .max(20)
  .nullable()
  .optional()
  .openapi({ description: 'more of its headers whose values are secret (stored encrypted, shown masked), beside those secret by name; null or absent = none more (PATCH: absent keeps the marks)', example: ['X-Customer-Key'] });

/** Health over the latest attempts of the last 24 h (docs/architecture.md, "Health"). */
export const HealthStatusOut = z.enum(['healthy', 'slow', 'degraded', 'failing', 'unknown']).openapi({
  description: 'healthy: at least 95 % of the attempts of the last 24 h succeeded, or the latest 5 did; slow: not failing, but most of the latest attempts timed out or took longer than 5 s; degraded: some failures; failing: every one of the latest attempts failed; unknown: no finished attempt in 24 h',
});

const MAX_IN_FLIGHT =
  'attempts in flight to this endpoint at once, per worker process (1–1000); null = the deployment default (WEBHOOK_DEFAULT_MAX_IN_FLIGHT, 20 unless set). Deliveries beyond it wait durably without burning an attempt';

const eventNames = z.array(z.string().min(1).max(130)).max(256);

const fields = {
  url: z
    .string()
    .max(2048)
    .regex(/^[^\x00-\x20\x7f]+$/, 'must not contain spaces or control characters')
    .openapi({ example: 'https://example.com/webhooks' }),
  events: eventNames.nullable().optional().openapi({ description: 'event types, "*" or "prefix.*"; null = every type' }),
  channels: z.array(z.string().min(1).max(128)).max(64).nullable().optional(),
  filter: z.record(z.unknown()).nullable().optional().openapi({ description: 'MongoDB-style query on the envelope {id, type, timestamp, channels, data}' }),
  headers: Headers.optional(),
  secret_headers: SecretHeaders,
  secret: z.string().min(24).max(128).optional().openapi({ description: 'whsec_… or any string of 24+ characters; generated when absent' }),
  retry_schedule: z.array(z.string()).max(20).optional().openapi({ description: 'delays between attempts, e.g. ["1m","5m"]; [] = a single attempt' }),
  timeout_ms: z.number().int().min(1000).max(60_000).optional(),
  rate_limit_per_s: z.number().int().min(1).max(10_000).nullable().optional(),
  max_in_flight: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .nullable()
    .optional()
    .openapi({ description: MAX_IN_FLIGHT, example: 5 }),
  uid: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/).nullable().optional(),
  description: z.string().max(1024).optional(),
};

/** An application by id (app_…) or by its uid. */
export const AppRef = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/);
const application = AppRef.nullable().optional().openapi({ description: 'the application (id or uid) it belongs to; absent or null = organization-level. Fixed once created; an application key may only name its own' });

export const WebhookIn = registry.register('WebhookIn', z.object({ ...fields, application }).strict());
export const WebhookPut = registry.register('WebhookPut', z.object({ ...fields, application, uid: fields.uid.optional() }).omit({ uid: true }).strict());
export const WebhookPatch = registry.register(
  'WebhookPatch',
  z
    .object({
      ...fields,
      url: fields.url.optional(),
      secret: fields.secret,
      disabled: z.boolean().optional(),
      recover_since: rfc3339().optional(),
    })
    .strict()
    .refine((b) => b.recover_since === undefined || b.disabled === false, {
      path: ['recover_since'],
      message: 'recover_since goes with disabled: false',
    }),
);

export const AttemptOut = registry.register(
  'Attempt',
  z.object({
    id: z.string(),
    attempt: z.number().int(),
    status_code: z.number().int().nullable(),
    duration_ms: z.number().int(),
    error: z.enum(['timeout', 'connection_refused', 'dns', 'tls', 'blocked_address', 'http_status', 'proxy_unavailable', 'resolver_unavailable']).nullable().openapi({
      description: 'why the attempt failed: the endpoint (timeout, connection_refused, dns: its name does not exist, tls, blocked_address, http_status), or hookrelay\'s own path (proxy_unavailable: the egress proxy is unreachable or refused the tunnel; resolver_unavailable: the DNS resolver did not answer) — those are not the endpoint\'s: the attempt is tried again later with the same number, and the webhook\'s health and alerts never count it',
    }),
    response_body: z.string().nullable(),
    created_at: z.string(),
    sends: z.number().int().openapi({ description: 'how many times this request left hookrelay: more than 1 when a worker died after sending and the attempt ran again (same webhook-id)' }),
    in_flight: z.boolean().openapi({ description: 'the request has been sent (or is being sent) and its outcome is not recorded yet' }),
  }),
);

export const DeliveryOut = registry.register(
  'Delivery',
  z.object({
    id: z.string(),
    webhook_id: z.string(),
    event_id: z.string(),
    event: z.string(),
    payload: z.unknown(),
    application_id: z.string().nullable(),
    status: z.enum(['pending', 'delivered', 'failed', 'paused', 'skipped', 'cancelled']).openapi({ description: 'paused: held while the webhook is paused (released in order on resume); skipped: published while the webhook was disabled automatically (a recovery re-delivers it)' }),
    attempt: z.number().int(),
    status_code: z.number().int().nullable(),
    next_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    created_at: z.string(),
    workflow_id: z.string(),
    waiting: z
      .object({
        reason: z.enum(['endpoint_in_flight', 'application_share', 'worker_capacity', 'proxy_unavailable', 'resolver_unavailable']),
        since: z.string().openapi({ description: 'when it started waiting' }),
      })
      .nullable()
      .openapi({
        description:
          'set while the next attempt waits for room to be sent (this is not an attempt of its schedule and burns none); null otherwise. endpoint_in_flight: the webhook has max_in_flight attempts in flight; application_share: its application has its fair share of the worker\'s capacity; worker_capacity: the worker process is at its capacity of attempts in flight; proxy_unavailable, resolver_unavailable: hookrelay\'s own egress proxy or DNS resolver fails, and the attempt waits until it works again',
      }),
    attempts: z.array(AttemptOut).optional(),
  }),
);

export const RecoveryOut = registry.register(
  'Recovery',
  z.object({
    id: z.string(),
    webhook_id: z.string(),
    release: z.boolean().openapi({ description: 'a resume: first releases the deliveries held while paused, in publication order' }),
    since: z.string().nullable(),
    until: z.string().nullable(),
    status: z.enum(['running', 'completed']),
    recovered: z.number().int(),
    request_id: z.string().optional(),
  }),
);

export const WebhookOut = registry.register(
  'Webhook',
  z.object({
    id: z.string(),
    application_id: z.string().nullable(),
    uid: z.string().nullable(),
    url: z.string(),
    description: z.string(),
    events: z.array(z.string()).nullable(),
    channels: z.array(z.string()).nullable(),
    filter: z.record(z.unknown()).nullable(),
    headers: z.record(z.string()).openapi({ description: SECRET_HEADERS_NOTE }),
    secret_headers: z.array(z.string()).openapi({ description: 'the headers whose values are secret: shown masked, stored encrypted' }),
    retry_schedule: z.array(z.string()),
    timeout_ms: z.number().int(),
    rate_limit_per_s: z.number().int().nullable(),
    max_in_flight: z.number().int().nullable().openapi({ description: MAX_IN_FLIGHT }),
    status: z.enum(['active', 'disabled']),
    disabled: z.boolean(),
    disabled_reason: z.enum(['user', 'failing', 'gone']).nullable(),
    health_status: HealthStatusOut,
    secret: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    recent_deliveries: z.array(DeliveryOut).optional(),
    recovery: RecoveryOut.optional(),
    request_id: z.string().optional(),
  }),
);

export const RecoverIn = registry.register(
  'RecoverIn',
  z.object({ since: rfc3339(), until: rfc3339().optional() }).strict().refine(untilAfterSince, UNTIL_AFTER_SINCE),
);

export const RotateIn = registry.register('RotateSecretIn', z.object({ secret: fields.secret }).strict());
export const TestIn = registry.register(
  'WebhookTestIn',
  z.object({ event_type: z.string().optional(), data: z.unknown().optional() }).strict(),
);

/** The one definition of a success rate, in webhook and application statistics alike (docs/api.md, "Statistics"). */
export const SUCCESS_RATE = 'succeeded / (succeeded + failed) finished attempts in the window; null without any. A delivery that succeeded on its third attempt counts one success and two failures';

export const StatsOut = registry.register(
  'WebhookStats',
  z.object({
    window: z.string(),
    attempts: z.object({ succeeded: z.number().int(), failed: z.number().int() }).openapi({ description: 'finished attempts in the window (a request still in flight is not counted)' }),
    success_rate: z.number().nullable().openapi({ description: SUCCESS_RATE }),
    deliveries: z.object({ delivered: z.number().int(), failed: z.number().int(), pending: z.number().int() }).openapi({ description: 'deliveries created in the window, by their state now (pending includes paused)' }),
    latency_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() }).openapi({ description: 'durations of the finished attempts in the window' }),
    health_status: HealthStatusOut,
    last_success_at: z.string().nullable(),
    last_failure_at: z.string().nullable(),
    series: z.array(z.object({ at: z.string(), delivered: z.number().int(), failed: z.number().int(), other: z.number().int() })).openapi({ description: 'deliveries by creation time: hourly for windows up to 2 days, daily beyond (other = pending, paused, skipped, cancelled)' }),
    request_id: z.string().optional(),
  }),
);

export const IdParams = z.object({ id: z.string().max(128) });
