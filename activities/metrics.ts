import client from 'prom-client';

/**
 * What the worker measures about deliveries (Prometheus). Labels are bounded: outcomes and event types (a
 * catalog; past MAX_TYPES distinct names the rest count as "other"), never webhook, event or delivery ids.
 */
const MAX_TYPES = 200;

export function createDeliveryMetrics(registry = new client.Registry()) {
  const types = new Set<string>();
  const type = (t: string) => {
    if (types.has(t)) return t;
    if (types.size >= MAX_TYPES) return 'other';
    types.add(t);
    return t;
  };
  const deliveries = new client.Counter({
    name: 'hookrelay_delivery_attempts_total',
    help: 'Attempts by what they led to: delivered, retry (failed, another attempt scheduled), failed (the delivery ended failed), cancelled, held, throttled',
    labelNames: ['outcome', 'event_type'] as const,
    registers: [registry],
  });
  const ended = new client.Counter({
    name: 'hookrelay_deliveries_total',
    help: 'Deliveries that ended, by outcome (delivered, failed) and event type',
    labelNames: ['outcome', 'event_type'] as const,
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'hookrelay_attempt_duration_seconds',
    help: 'Duration of the HTTP request of an attempt, by result (ok, failed)',
    labelNames: ['result'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const attemptsPerDelivery = new client.Histogram({
    name: 'hookrelay_attempts_per_delivery',
    help: 'Attempts a delivery took until it ended (delivered or failed)',
    buckets: [1, 2, 3, 4, 5, 6, 8, 10, 15, 20],
    registers: [registry],
  });
  const toFirstAttempt = new client.Histogram({
    name: 'hookrelay_publish_to_first_attempt_seconds',
    help: 'From the event being published to its first attempt starting',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const retention = new client.Counter({
    name: 'hookrelay_retention_deleted_total',
    help: 'Documents deleted by the retention cleanup, by kind (events, deliveries, attempts, recoveries)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const state = new client.Gauge({
    name: 'hookrelay_deliveries_open',
    help: 'Deliveries not yet ended, by status (pending, paused), counted periodically by the worker',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const waited = new client.Counter({
    name: 'hookrelay_attempts_waited_total',
    help: 'Attempts that waited instead of being sent, by reason: refused by the fairness gate (endpoint_in_flight, application_share, worker_capacity) or hookrelay\'s own path failing (proxy_unavailable, resolver_unavailable); each waits without burning an attempt',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const detached = new client.Counter({
    name: 'hookrelay_attempts_detached_total',
    help: 'Attempts whose request outlived their activity (slower than ATTEMPT_INLINE_MS, or to a slow endpoint): the outcome was signalled',
    registers: [registry],
  });
  const pathFailures = new client.Counter({
    name: 'hookrelay_egress_failures_total',
    help: 'Attempts that hookrelay\'s own path failed, by error (proxy_unavailable, resolver_unavailable): not the endpoint\'s, no attempt of the schedule burned, the delivery tries again later',
    labelNames: ['error'] as const,
    registers: [registry],
  });
  for (const error of ['proxy_unavailable', 'resolver_unavailable']) pathFailures.inc({ error }, 0);
  return {
    registry,
    pathFailed(error: string) {
      pathFailures.inc({ error });
    },
    waited(reason: string) {
      waited.inc({ reason });
    },
    detached() {
      detached.inc();
    },
    attempt(outcome: string, eventType: string, ok: boolean | null, durationMs: number | null) {
      deliveries.inc({ outcome, event_type: type(eventType) });
      if (ok !== null && durationMs !== null) duration.observe({ result: ok ? 'ok' : 'failed' }, durationMs / 1000);
    },
    ended(outcome: 'delivered' | 'failed', eventType: string, attempts: number) {
      ended.inc({ outcome, event_type: type(eventType) });
      attemptsPerDelivery.observe(attempts);
    },
    firstAttempt(sincePublishMs: number) {
      if (sincePublishMs >= 0) toFirstAttempt.observe(sincePublishMs / 1000);
    },
    retentionDeleted(kind: string, n: number) {
      if (n > 0) retention.inc({ kind }, n);
    },
    open(status: 'pending' | 'paused', n: number) {
      state.set({ status }, n);
    },
  };
}

export type DeliveryMetrics = ReturnType<typeof createDeliveryMetrics>;

/** The time in an event id (`evt_` + ULID: its first 10 characters are the ms timestamp in Crockford base32). */
export function idTime(id: string): number | null {
  const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const ulid = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 11);
  if (ulid.length !== 10) return null;
  let t = 0;
  for (const ch of ulid) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    t = t * 32 + v;
  }
  return t;
}
