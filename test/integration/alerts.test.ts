import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, newOrg, quietFor, stack } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
// @ts-expect-error plain JS module shared with npm start
import { startApi, startWorker } from '../../scripts/stack.js';

type Proc = { stop(): Promise<void>; url?: string };

// Alerts as operational webhooks (issue 13): webhook.failing (N failed attempts in a row, or failing for X hours;
// once per streak), webhook.recovered, delivery.exhausted — only to organization-level webhooks that list them.
describe('alerts', () => {
  let api: Proc & { url: string };
  let worker: Proc & { metricsPort: number };
  let bad: Receiver;
  let ops: Receiver;
  let customerAll: Receiver;
  let failing = true;
  beforeAll(async () => {
    const logDir = join(stack().logDir, 'alerts');
    const env = { ...stack().env, TEMPORAL_TASK_QUEUE: 'alerts', FAILING_ALERT_AFTER_ATTEMPTS: '3', EXHAUSTED_ALERT_WINDOW_MS: '4000', WORKER_METRICS_PORT: '0' };
    api = await startApi({ env, logDir, name: 'api-alerts' });
    worker = await startWorker({ env, logDir, name: 'worker-alerts' });
    bad = await startReceiver(() => ({ status: failing ? 500 : 200 }));
    ops = await startReceiver();
    customerAll = await startReceiver();
  }, 120_000);
  afterAll(async () => {
    for (const r of [bad, ops, customerAll]) await r?.close();
    for (const p of [worker, api]) await p?.stop().catch(() => {});
  });

  it('sends webhook.failing once per streak, delivery.exhausted when a delivery ends failed, webhook.recovered after', async () => {
    const { admin: local } = await newOrg('alerts');
    const admin = client(local.key, api.url);
    await admin.post('/v1/event-types', { name: 'job.done' });
    await admin.put('/v1/applications/uid/cust', { name: 'customer' });
    const { body: wh } = await admin.post('/v1/webhooks', { url: bad.url, application: 'cust', events: ['job.done'], retry_schedule: ['1s', '1s', '1s'] });
    // A customer's webhook that takes every event type: operational events are never a customer's.
    await admin.post('/v1/webhooks', { url: customerAll.url, application: 'cust' });
    const opsHook = await admin.post('/v1/webhooks', { url: ops.url, events: ['webhook.failing', 'webhook.recovered', 'delivery.exhausted'] });
    expect(opsHook.status, JSON.stringify(opsHook.body)).toBe(201);

    const { body: ev } = await admin.post('/v1/events', { application: 'cust', type: 'job.done', data: { n: 1 } });
    await eventually(async () => ops.received.some((r) => JSON.parse(r.body).type === 'delivery.exhausted'), 30_000);
    await quietFor(1000);
    const types = () => ops.received.map((r) => JSON.parse(r.body));
    const failingAlerts = types().filter((e) => e.type === 'webhook.failing');
    expect(failingAlerts).toHaveLength(1);
    expect(failingAlerts[0].data).toMatchObject({ webhook_id: wh.id, consecutive_failures: 3, last_status_code: 500, last_error: 'http_status' });
    const exhausted = types().find((e) => e.type === 'delivery.exhausted');
    expect(exhausted.data).toMatchObject({ webhook_id: wh.id, event_id: ev.id, event_type: 'job.done', attempts: 4, last_status_code: 500 });
    expect(bad.received).toHaveLength(4);

    failing = false;
    await admin.post('/v1/events', { application: 'cust', type: 'job.done', data: { n: 2 } });
    await eventually(async () => types().some((e) => e.type === 'webhook.recovered'), 20_000);
    expect(types().find((e) => e.type === 'webhook.recovered').data).toMatchObject({ webhook_id: wh.id, failing_since: failingAlerts[0].data.failing_since });
    await quietFor(500);
    expect(types().filter((e) => e.type === 'webhook.failing')).toHaveLength(1);
    // The customer's catch-all webhook got its two events and nothing operational.
    expect(customerAll.received.map((r) => JSON.parse(r.body).type)).toEqual(['job.done', 'job.done']);

    // The worker's Prometheus metrics describe the same deliveries (labels: outcomes and event types, no ids).
    const text = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
    const value = (line: string) => Number(text.split('\n').find((l) => l.startsWith(line))?.split(' ').pop());
    expect(value('hookrelay_deliveries_total{outcome="failed",event_type="job.done"}')).toBe(1);
    expect(value('hookrelay_deliveries_total{outcome="delivered",event_type="job.done"}')).toBeGreaterThanOrEqual(3);
    expect(value('hookrelay_delivery_attempts_total{outcome="retry",event_type="job.done"}')).toBe(3);
    expect(value('hookrelay_attempt_duration_seconds_count{result="failed"}')).toBe(4);
    expect(value('hookrelay_attempts_per_delivery_count')).toBeGreaterThanOrEqual(4);
    expect(value('hookrelay_publish_to_first_attempt_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(text).toContain('hookrelay_worker_slots_in_use{kind="activity"}');
    expect(text).toMatch(/hookrelay_deliveries_open\{status="pending"\} \d+/);
    expect(text).not.toMatch(/(wh|evt|dlv)_[0-9A-Z]{26}/);
  }, 60_000);

  // Issue 24, item 1: an operational webhook that fails its own alerts used to alert itself without end (510
  // delivery.exhausted in 23 s), and an outage of N deliveries sent N alerts.
  it('never alerts about the delivery of an alert, and sends delivery.exhausted once per webhook and window with a count', async () => {
    const { admin: local } = await newOrg('alerts-loop');
    const admin = client(local.key, api.url);
    await admin.post('/v1/event-types', { name: 'job.done' });
    const down = await startReceiver(() => ({ status: 500 }));
    const opsDown = await startReceiver(() => ({ status: 500 }));
    try {
      // An organization-level webhook that listens to alerts, answers 500 and has a single attempt.
      const { body: opsWh } = await admin.post('/v1/webhooks', { url: opsDown.url, events: ['delivery.exhausted', 'webhook.failing'], retry_schedule: [] });
      const { body: wh } = await admin.post('/v1/webhooks', { url: down.url, events: ['job.done'], retry_schedule: [] });
      const n = 30;
      const batch = await admin.post('/v1/events/batch', { events: Array.from({ length: n }, (_, i) => ({ type: 'job.done', data: { i } })) });
      expect(batch.status, JSON.stringify(batch.body)).toBe(202);
      await down.waitFor(n);
      const alerts = () => opsDown.received.map((r) => JSON.parse(r.body));
      const exhausted = () => alerts().filter((e) => e.type === 'delivery.exhausted');
      const counted = () => exhausted().reduce((sum, e) => sum + (e.data.count ?? 1), 0);
      // The first at once, the rest of the window in one summary at its end (4 s here).
      await eventually(async () => counted() >= n, 20_000).catch((err) => {
        throw new Error(`${err.message}; received: ${JSON.stringify(alerts().map((e) => [e.type, e.data.webhook_id === wh.id ? 'wh' : e.data.webhook_id, e.data.count]))}`);
      });
      await quietFor(5000);
      const seen = alerts();
      // Nothing about the alert webhook's own deliveries, however they failed.
      expect(seen.filter((e) => e.data.webhook_id === opsWh.id)).toEqual([]);
      expect(counted()).toBe(n);
      // At most a first and a summary per window (one worker here): 30 failures within a second or two, so one
      // window or two.
      const perWindow = new Map<string, number>();
      for (const e of exhausted()) perWindow.set(e.data.window_start, (perWindow.get(e.data.window_start) ?? 0) + 1);
      expect([...perWindow.values()].every((c) => c <= 2), JSON.stringify([...perWindow])).toBe(true);
      expect(exhausted().length).toBeLessThanOrEqual(2 * Math.min(perWindow.size, 3));
      expect(exhausted()[0].data).toMatchObject({ webhook_id: wh.id, count: 1, event_type: 'job.done', last_status_code: 500 });
      expect(exhausted().some((e) => e.data.count > 1 && e.data.window_start && e.data.window_end)).toBe(true);
      expect(seen.filter((e) => e.type === 'webhook.failing')).toHaveLength(1);
      // And it stays quiet: no alert feeds another.
      await quietFor(5000);
      expect(opsDown.received).toHaveLength(seen.length);
    } finally {
      await down.close();
      await opsDown.close();
    }
  }, 60_000);
});
