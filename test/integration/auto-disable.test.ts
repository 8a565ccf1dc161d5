import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, newOrg, stack, quietFor } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
// @ts-expect-error plain JS module shared with npm start
import { startApi, startWorker } from '../../scripts/stack.js';

type Proc = { stop(): Promise<void>; url?: string };

// Auto-disable after failing continuously for AUTO_DISABLE_AFTER_MS (5 days by default; 2 s here, same code).
describe('auto-disable', () => {
  let api: Proc & { url: string };
  let worker: Proc;
  let bad: Receiver;
  let ops: Receiver;
  beforeAll(async () => {
    const logDir = join(stack().logDir, 'auto-disable');
    const env = { ...stack().env, TEMPORAL_TASK_QUEUE: 'auto-disable', AUTO_DISABLE_AFTER_MS: '2000' };
    api = await startApi({ env, logDir });
    worker = await startWorker({ env, logDir });
    bad = await startReceiver(() => ({ status: 500 }));
    ops = await startReceiver();
  });
  afterAll(async () => {
    await bad.close();
    await ops.close();
    for (const p of [worker, api]) await p.stop().catch(() => {});
  });

  it('disables a webhook failing past the limit and tells the operational webhook (webhook.disabled)', async () => {
    const { admin: local } = await newOrg('auto-disable');
    const admin = client(local.key, api.url);
    await admin.post('/v1/event-types', { name: 'job.done' });
    const { body: failing } = await admin.post('/v1/webhooks', { url: bad.url, events: ['job.done'], retry_schedule: ['1s', '1s', '1s', '1s'] });
    const { body: operational } = await admin.post('/v1/webhooks', { url: ops.url, events: ['webhook.disabled'] });
    await admin.post('/v1/events', { type: 'job.done', data: {} });
    const wh = await eventually(async () => {
      const w = (await admin.get(`/v1/webhooks/${failing.id}`)).body;
      return w.status === 'disabled' && w;
    }, 20_000);
    expect(wh.disabled_reason).toBe('failing');
    // The health summary is written within a second of the attempt (services/health.ts).
    await eventually(async () => (await admin.get(`/v1/webhooks/${failing.id}`)).body.health_status === 'failing', 5000);
    await ops.waitFor(1, 20_000);
    const note = JSON.parse(ops.received[0].body);
    expect(note).toMatchObject({ type: 'webhook.disabled', data: { webhook_id: failing.id, reason: 'failing' } });
    expect(operational.id).toBeTruthy();
    const sent = bad.received.length;
    await quietFor(2000);
    expect(bad.received.length).toBe(sent);
  });
});
