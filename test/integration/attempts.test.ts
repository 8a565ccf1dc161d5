import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { newOrg, stack, testStore } from '../support/api.js';
import { startReceiver } from '../support/receiver.js';
import { asId, attemptId, type DeliveryId, type EventId, type OrgId, type WebhookId } from '../../src/domain/ids.js';
import { deliveryRepo } from '../../src/storage/repos/deliveries.js';
import { createDeliver } from '../../activities/deliver.js';
import { createSender } from '../../activities/http.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import type { Control } from '../../src/services/control.js';
import type { Recoveries } from '../../src/services/recoveries.js';

// An attempt's record, begun before its request leaves (storage/repos/deliveries.ts), on the real MongoDB-wire
// server of the suite: an attempt run again by Temporal is told whether its request was already answered.
describe('attempt records', () => {
  async function setup() {
    const store = await testStore();
    const { org } = await newOrg('attempts');
    const orgId = org._id as OrgId;
    const deliveryId = asId('dlv', `dlv_ATT${Date.now()}${Math.floor(Math.random() * 1e6)}`) as DeliveryId;
    const doc = (attempt: number) => ({
      _id: attemptId(deliveryId, attempt), org_id: orgId, delivery_id: deliveryId, webhook_id: asId('wh', 'wh_ATTEMPTS') as WebhookId, attempt,
      status_code: null, duration_ms: 0, error: null, response_body: null, created_at: new Date(), run_id: 'run-1',
    });
    return { repo: deliveryRepo(store, orgId).attempts, doc, deliveryId };
  }

  it('a re-run after the answer was recorded gets that record and sends nothing; one still in flight counts a second send', async () => {
    const { repo, doc, deliveryId } = await setup();
    expect(await repo.begin(doc(1))).toBeNull();
    await repo.finish(doc(1)._id, { status_code: 500, duration_ms: 12, error: 'http_status', response_body: 'nope', retry_after: null });
    const again = await repo.begin(doc(1));
    expect(again).toMatchObject({ attempt: 1, status_code: 500, duration_ms: 12, error: 'http_status', in_flight: false, sends: 1 });
    // Another run with the same attempt number (a retry that read the delivery early) sends, and it is counted.
    expect(await repo.begin({ ...doc(1), run_id: 'run-2' })).toBeNull();

    expect(await repo.begin(doc(2))).toBeNull();
    // The worker died after it began attempt 2 (perhaps after sending): the re-run sends, and the log says twice.
    expect(await repo.begin(doc(2))).toBeNull();
    const attempts = await repo.of(deliveryId);
    expect(attempts.map((a) => [a.attempt, a.sends, a.in_flight])).toEqual([[1, 2, true], [2, 2, true]]);
  });
});

// The attempt itself (activities/deliver.ts) run again by Temporal, as after a refused workflow task: in another
// worker process (a second instance, nothing in its memory) with the same workflow run it takes the recorded
// answer and sends nothing; a later run reusing the attempt number sends.
describe('an attempt run again', () => {
  it('by the same run answers from the record without sending; by another run it sends', async () => {
    const store = await testStore();
    const { org, admin } = await newOrg('attempt-rerun');
    const rcv = await startReceiver(() => ({ status: 503, headers: { 'retry-after': '120' } }));
    try {
      expect((await admin.post('/v1/event-types', { name: 'rerun.tick' })).status).toBe(201);
      const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, events: ['rerun.tick'], retry_schedule: ['1s'] });
      const notified: string[] = [];
      const deps = {
        store, sender: createSender({ allowPrivateTargets: true, proxyUrl: null }), config: loadConfig(stack().env), log: createLogger('silent', 'test'),
        control: { notify: async (_o: unknown, type: string, _d: unknown, id?: string) => void notified.push(`${type} ${id}`), disableAutomatically: async () => {} } as unknown as Control,
        recoveries: {} as Recoveries,
      };
      const req = {
        orgId: org._id as OrgId, webhookId: wh.id as WebhookId, eventId: asId('evt', `evt_RERUN${Date.now()}`) as EventId,
        deliveryId: asId('dlv', `dlv_RERUN${Date.now()}`) as DeliveryId, eventType: 'rerun.tick', scheduleMs: [1000], attemptsBefore: 0,
        body: '{"type":"rerun.tick","data":{}}', attempt: 1, attemptInRun: 1, elapsedSinceFirstMs: 0,
      };
      const env = (runId: string) => new MockActivityEnvironment({ workflowExecution: { workflowId: `delivery/${wh.id}/${req.eventId}`, runId } });
      const first = await env('run-1').run(createDeliver(deps), req);
      // 503 with Retry-After: 120 s asks for more than the schedule's 1 s.
      expect(first).toEqual({ outcome: 'retry', delayMs: 120_000 });
      expect(rcv.received).toHaveLength(1);
      const again = await env('run-1').run(createDeliver(deps), req);
      expect(again).toEqual(first);
      expect(rcv.received).toHaveLength(1);
      const other = await env('run-2').run(createDeliver(deps), req);
      expect(other).toEqual(first);
      expect(rcv.received).toHaveLength(2);
      const [a] = await deliveryRepo(store, org._id as OrgId).attempts.of(req.deliveryId);
      expect(a).toMatchObject({ attempt: 1, sends: 2, status_code: 503, in_flight: false, run_id: 'run-2' });
    } finally {
      await rcv.close();
    }
  });
});
