// Writes many deliveries straight into MongoDB for the list scenario (publishing 100,000 events through the stack
// would take most of an hour on 2 cores), and sums their attempts into each webhook's health summary with the
// worker's own code, so the API reads what it would read after real deliveries.
import { attemptId, newId, type OrgId, type WebhookId, type EventId } from '../../src/domain/ids.js';
import { createLogger } from '../../src/log.js';
import { createHealthRecorder } from '../../src/services/health.js';
import { openStore } from '../../src/storage/mongo.js';
import type { AttemptDoc, DeliveryDoc } from '../../src/storage/types.js';

export async function seedDeliveries(mongoUrl: string, dbName: string, webhookIds: string[], total: number) {
  const store = await openStore(mongoUrl, dbName);
  try {
    const whs = await store.c.webhooks.find({ _id: { $in: webhookIds as WebhookId[] } }, { projection: { org_id: 1 } }).toArray();
    const orgOf = new Map(whs.map((w) => [w._id, w.org_id as OrgId]));
    const health = createHealthRecorder(store, createLogger('warn', 'bench-seed'));
    const start = Date.now() - 23 * 3600_000; // spread over the last 23 h
    const batch = 2000;
    const recorded: Promise<number>[] = [];
    for (let i = 0; i < total; i += batch) {
      const deliveries: DeliveryDoc[] = [];
      const attempts: AttemptDoc[] = [];
      for (let j = i; j < Math.min(total, i + batch); j++) {
        const whId = webhookIds[j % webhookIds.length] as WebhookId;
        const orgId = orgOf.get(whId)!;
        const at = new Date(start + Math.floor((j / total) * 23 * 3600_000));
        const id = newId('dlv', at.getTime());
        const ok = Math.floor(j / webhookIds.length) % 10 !== 0; // every webhook: 90 % succeeded
        deliveries.push({
          _id: id, org_id: orgId, webhook_id: whId, event_id: newId('evt', at.getTime()) as EventId, event_type: 'bench.list',
          status: ok ? 'delivered' : 'failed', attempt: 1, status_code: ok ? 200 : 500, last_error: ok ? null : 'http_status',
          last_duration_ms: 12, next_attempt_at: null, delivered_at: ok ? at : null, ended_at: at, created_at: at, updated_at: at, workflow_id: `seed-${id}`,
        });
        attempts.push({
          _id: attemptId(id, 1), org_id: orgId, delivery_id: id, webhook_id: whId, attempt: 1, status_code: ok ? 200 : 500,
          duration_ms: 12, error: ok ? null : 'http_status', response_body: null, created_at: at, sends: 1, in_flight: false,
        });
        recorded.push(health.record(orgId, whId, { ok, at }));
      }
      await store.c.deliveries.insertMany(deliveries, { ordered: false });
      await store.c.attempts.insertMany(attempts, { ordered: false });
    }
    await Promise.all(recorded);
    return { webhooks: webhookIds.length, deliveries: total, attempts: total };
  } finally {
    await store.close();
  }
}

/**
 * Old data for the long scenario's retention: `total` events of one webhook, each with its delivery (ended) and
 * attempt, `ageDays` old — what the retention schedule deletes while the run goes on.
 */
export async function seedOld(mongoUrl: string, dbName: string, webhookId: string, total: number, ageDays: number) {
  const store = await openStore(mongoUrl, dbName);
  try {
    const wh = await store.c.webhooks.findOne({ _id: webhookId as WebhookId });
    if (!wh) throw new Error(`webhook ${webhookId} not found`);
    const orgId = wh.org_id as OrgId;
    const start = Date.now() - ageDays * 24 * 3600_000;
    const batch = 2000;
    for (let i = 0; i < total; i += batch) {
      const events = [];
      const deliveries: DeliveryDoc[] = [];
      const attempts: AttemptDoc[] = [];
      for (let j = i; j < Math.min(total, i + batch); j++) {
        const at = new Date(start + j * 10);
        const eventId = newId('evt', at.getTime()) as EventId;
        const id = newId('dlv', at.getTime());
        events.push({ _id: eventId, org_id: orgId, application_id: null, type: 'bench.old', timestamp: at, channels: null, body: '{"old":true}', raw: false, matched: [wh._id], created_at: at });
        deliveries.push({
          _id: id, org_id: orgId, webhook_id: wh._id, event_id: eventId, event_type: 'bench.old', status: 'delivered', attempt: 1, status_code: 200, last_error: null,
          last_duration_ms: 12, next_attempt_at: null, delivered_at: at, ended_at: at, created_at: at, updated_at: at, workflow_id: `seed-${id}`,
        });
        attempts.push({ _id: attemptId(id, 1), org_id: orgId, delivery_id: id, webhook_id: wh._id, attempt: 1, status_code: 200, duration_ms: 12, error: null, response_body: null, created_at: at, sends: 1, in_flight: false });
      }
      await store.c.events.insertMany(events as never[], { ordered: false });
      await store.c.deliveries.insertMany(deliveries, { ordered: false });
      await store.c.attempts.insertMany(attempts, { ordered: false });
    }
    return { orgId, events: total, deliveries: total, attempts: total };
  } finally {
    await store.close();
  }
}

/** How many of the seeded old documents are still there. */
export async function countOld(mongoUrl: string, dbName: string) {
  const store = await openStore(mongoUrl, dbName);
  try {
    const [events, deliveries] = await Promise.all([
      store.c.events.countDocuments({ type: 'bench.old' }),
      store.c.deliveries.countDocuments({ event_type: 'bench.old' }),
    ]);
    return { events, deliveries };
  } finally {
    await store.close();
  }
}
