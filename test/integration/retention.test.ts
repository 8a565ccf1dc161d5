import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { eventually, newOrg, stack, testStore, type Client as Api } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { attemptId, newId, type OrgId, type WebhookId } from '../../src/domain/ids.js';
import { orgRepo } from '../../src/storage/repos/orgs.js';
import type { DeliveryDoc, DeliveryStatus, EventDoc } from '../../src/storage/types.js';
import { retentionScheduleId } from '../../src/temporal.js';

// Retention (issue 13): a Temporal Schedule runs the cleanup workflow, which deletes in bounded rounds what is
// older than the organization's retention — never a delivery still pending or paused, nor the event it needs —
// and Temporal's namespace retention matches. And erasure of one event's payload on request.
const DAY = 24 * 3600_000;
let temporal: Client;
let connection: Connection;
let rcv: Receiver;

beforeAll(async () => {
  connection = await Connection.connect({ address: stack().temporalAddress });
  temporal = new Client({ connection });
  rcv = await startReceiver();
});
afterAll(async () => {
  await connection?.close();
  await rcv?.close();
});

/** An event and one delivery of it (with its attempts), written as if made `ageMs` ago. */
async function seed(orgId: OrgId, ageMs: number, status: DeliveryStatus, attempts = 1) {
  const store = await testStore();
  const at = new Date(Date.now() - ageMs);
  const eventId = newId('evt', at.getTime());
  const webhookId = newId('wh') as WebhookId;
  const event: EventDoc = { _id: eventId, org_id: orgId, type: 'old.thing', timestamp: at, channels: null, body: '{"data":{"secret":"x"}}', raw: false, matched: [webhookId], created_at: at };
  const d: DeliveryDoc = {
    _id: newId('dlv', at.getTime()), org_id: orgId, webhook_id: webhookId, event_id: eventId, event_type: 'old.thing', status, attempt: attempts,
    status_code: 500, last_error: 'http_status', last_duration_ms: 5, next_attempt_at: null, delivered_at: null, ended_at: at, created_at: at, updated_at: at, workflow_id: 'seed',
  };
  await store.c.events.insertOne(event);
  await store.c.deliveries.insertOne(d);
  for (let n = 1; n <= attempts; n++) {
    await store.c.attempts.insertOne({ _id: attemptId(d._id, n), org_id: orgId, delivery_id: d._id, webhook_id: webhookId, attempt: n, status_code: 500, duration_ms: 5, error: 'http_status', response_body: null, created_at: at });
  }
  return { event, delivery: d };
}

const exists = async (kind: 'events' | 'deliveries' | 'attempts', id: string) => (await (await testStore()).c[kind].findOne({ _id: id as never })) !== null;

describe('retention', () => {
  it('deletes what is older than the retention in bounded rounds, never an open delivery; an organization can keep less', async () => {
    const { org } = await newOrg('retention');
    const { org: short } = await newOrg('retention-short');
    await orgRepo(await testStore()).set(short._id, { retention_days: 1 });
    const old = await Promise.all((['delivered', 'failed', 'skipped', 'cancelled'] as const).map((s) => seed(org._id, 40 * DAY, s, 2)));
    const paused = await seed(org._id, 40 * DAY, 'paused', 0);
    const pending = await seed(org._id, 40 * DAY, 'pending', 1);
    const recent = await seed(org._id, 2 * DAY, 'delivered');
    const shortOld = await seed(short._id, 2 * DAY, 'delivered');
    // An event that matched no webhook, and an event with one ended and one paused delivery.
    const store = await testStore();
    const unmatched = { ...(await seed(org._id, 40 * DAY, 'delivered')).event, _id: newId('evt', Date.now() - 40 * DAY), matched: [] };
    await store.c.events.insertOne(unmatched);
    const shared = await seed(org._id, 40 * DAY, 'failed');
    const sharedPaused = { ...shared.delivery, _id: newId('dlv', Date.now() - 40 * DAY), webhook_id: newId('wh') as WebhookId, status: 'paused' as const, attempt: 0 };
    await store.c.deliveries.insertOne(sharedPaused);

    // The schedule the worker created, and the workflow it starts (started here directly, to wait for it).
    const taskQueue = stack().env.TEMPORAL_TASK_QUEUE;
    const schedule = await temporal.schedule.getHandle(retentionScheduleId(taskQueue)).describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionWorkflow', taskQueue });
    expect(schedule.spec.intervals?.[0]?.every).toBe(3600_000);
    const result = await temporal.workflow.execute('retentionWorkflow', { taskQueue, workflowId: `retention-test-${Date.now()}`, args: [{}] });
    expect(result.deliveries).toBeGreaterThanOrEqual(5);
    expect(result.attempts).toBeGreaterThanOrEqual(9);
    expect(result.events).toBeGreaterThanOrEqual(5);

    for (const o of old) {
      expect(await exists('deliveries', o.delivery._id)).toBe(false);
      expect(await exists('events', o.event._id)).toBe(false);
      for (const n of [1, 2]) expect(await exists('attempts', attemptId(o.delivery._id, n))).toBe(false);
    }
    expect(await exists('deliveries', shortOld.delivery._id)).toBe(false);
    expect(await exists('events', unmatched._id)).toBe(false);
    // The ended delivery goes; the event stays while its other delivery is held.
    expect(await exists('deliveries', shared.delivery._id)).toBe(false);
    expect(await exists('deliveries', sharedPaused._id)).toBe(true);
    expect(await exists('events', shared.event._id)).toBe(true);
    // Open deliveries and the events they need stay; so does what is younger than the retention.
    for (const kept of [paused, pending, recent]) {
      expect(await exists('deliveries', kept.delivery._id)).toBe(true);
      expect(await exists('events', kept.event._id)).toBe(true);
    }
    expect(await exists('attempts', attemptId(pending.delivery._id, 1))).toBe(true);

    // Temporal keeps closed histories as long as hookrelay keeps its records.
    const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 24 * 3600);
  }, 60_000);

  it("erases one event's payload on request: the delivery records stay, it is never sent again; refused while open", async () => {
    const { admin } = await newOrg('erasure');
    await admin.post('/v1/event-types', { name: 'user.deleted' });
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, events: ['user.deleted'] });
    const { body: ev } = await admin.post('/v1/events', { type: 'user.deleted', data: { email: 'someone@example.com' } });
    const d = await eventually(async () => (await admin.get(`/v1/webhooks/${wh.id}/deliveries`)).body.data.find((x: any) => x.status === 'delivered'));
    const erased = await admin.del(`/v1/events/${ev.id}/payload`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    expect(erased.body).toMatchObject({ id: ev.id, data: null });
    expect(erased.body.erased_at).toMatch(/^20/);
    const after = (await admin.get(`/v1/events/${ev.id}`)).body;
    expect(JSON.stringify(after)).not.toContain('someone@example.com');
    expect(after.deliveries).toHaveLength(1);
    expect((await admin.get(`/v1/deliveries/${d.id}`)).body.attempts).toHaveLength(1);
    expect(JSON.stringify((await admin.get(`/v1/deliveries/${d.id}`)).body)).not.toContain('someone@example.com');
    expect((await admin.post(`/v1/deliveries/${d.id}/retry`, {})).status).toBe(409);

    // An event whose delivery is held by a paused webhook cannot be erased yet.
    await admin.patch(`/v1/webhooks/${wh.id}`, { disabled: true });
    const { body: held } = await admin.post('/v1/events', { type: 'user.deleted', data: { email: 'other@example.com' } });
    const refused = await admin.del(`/v1/events/${held.id}/payload`);
    expect(refused.status).toBe(409);
    expect(JSON.stringify((await admin.get(`/v1/events/${held.id}`)).body)).toContain('other@example.com');
    expect((await admin.del('/v1/events/evt_nope/payload')).status).toBe(404);
  }, 60_000);
});
