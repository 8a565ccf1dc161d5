import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, quietFor, stack, type Client } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
// @ts-expect-error plain JS module shared with npm start
import { startAllInOne } from '../../scripts/stack.js';

type Proc = { stop(): Promise<void>; kill(signal?: string): void; exited: Promise<unknown>; url: string };

// A publish is answered once its event, outbox entry and delivery records are stored; the workflow starts run from
// a bounded queue in the process (services/fanout.ts): whole up to FANOUT_QUEUE_MAX_DELIVERIES, then as ids
// waiting behind (FANOUT_QUEUE_MAX_WAITING), then in the outbox only, taken back by the process as its queue
// empties; what a crash leaves queued, the sweep starts. Its own database and task queue, so nothing but this
// process (not the suite's API and its sweep) starts these deliveries.
describe('the start queue', () => {
  const logDir = join(stack().logDir, 'start-queue');
  const env = {
    ...stack().env,
    MONGODB_DB: `hookrelay_queue_${Date.now()}`,
    TEMPORAL_TASK_QUEUE: 'start-queue',
    // Three starts queued whole at most, five waiting behind them, one start at a time: a burst of publishes
    // goes past both bounds at once.
    FANOUT_QUEUE_MAX_DELIVERIES: '3',
    FANOUT_QUEUE_MAX_WAITING: '5',
    FANOUT_START_CONCURRENCY: '1',
    // No periodic sweep during the test: what is delivered came through the queue and the process's own refill.
    FANOUT_SWEEP_INTERVAL_MS: '600000',
    // And the Temporal SDK's own metrics on the worker's /metrics (checked at the end of the first test).
    WORKER_SDK_METRICS: 'true',
  };
  let proc: Proc;
  let rcv: Receiver;
  let admin: Client;
  /** A sample of the process's /metrics, by its name with labels as printed (`name{label="v"}`). */
  const metric = async (name: string) => {
    const text = await (await fetch(`${proc.url}/metrics`)).text();
    return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1) ?? NaN);
  };

  beforeAll(async () => {
    proc = await startAllInOne({ env, logDir, name: 'hookrelay-queue' });
    rcv = await startReceiver();
    admin = client(stack().env.ADMIN_KEY, proc.url);
    for (const name of ['q.tick', 'q.wide']) expect((await admin.post('/v1/event-types', { name })).status).toBe(201);
    expect((await admin.post('/v1/webhooks', { url: `${rcv.url}/tick`, events: ['q.tick'] })).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await admin.post('/v1/webhooks', { url: `${rcv.url}/wide${i}`, events: ['q.wide'] })).status).toBe(201);
  }, 180_000);
  afterAll(async () => {
    await rcv?.close();
    await proc?.stop().catch(() => {});
  });

  it('answers a burst before its starts run, past both bounds into the outbox, and delivers every event once', async () => {
    const answers = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => admin.post('/v1/events', { type: 'q.tick', data: { i } })),
      // Wider than the whole queue: taken alone when the queue is empty, never refused.
      admin.post('/v1/events', { type: 'q.wide', data: {} }),
    ]);
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(202);
    // The delivery records exist when the 202 is sent, whether or not the workflow has started yet.
    for (const a of answers.slice(20)) {
      const ev = (await admin.get(`/v1/events/${a.body.id}`)).body;
      expect(ev.deliveries.length, JSON.stringify(ev)).toBe(a.body.deliveries);
    }
    // Some waited behind the queue as ids, some in the outbox only: each was answered before its start.
    expect(await metric('hookrelay_fanout_deferred_total{where="waiting"}')).toBeGreaterThan(0);
    expect(await metric('hookrelay_fanout_deferred_total{where="outbox"}')).toBeGreaterThan(0);

    await rcv.waitFor(35, 60_000);
    await quietFor(1500);
    expect(rcv.received).toHaveLength(35);
    const keys = new Set(rcv.received.map((r) => `${r.path} ${r.headers['webhook-id']}`));
    expect(keys.size).toBe(35);
    const ids = new Set(answers.map((a) => a.body.id));
    for (const r of rcv.received) expect(ids.has(String(r.headers['webhook-id']))).toBe(true);
    // The backlog is gone and new publishes queue directly again.
    const idle = async () =>
      (await metric('hookrelay_fanout_backlog')) === 0 &&
      (await metric('hookrelay_fanout_queue_deliveries{state="queued"}')) === 0 &&
      (await metric('hookrelay_fanout_queue_deliveries{state="waiting"}')) === 0;
    await eventually(idle, 10_000);
    const before = [await metric('hookrelay_fanout_deferred_total{where="waiting"}'), await metric('hookrelay_fanout_deferred_total{where="outbox"}')];
    const one = await admin.post('/v1/events', { type: 'q.tick', data: { after: true } });
    await rcv.waitFor(36, 20_000);
    expect(rcv.received[35].headers['webhook-id']).toBe(one.body.id);
    expect([await metric('hookrelay_fanout_deferred_total{where="waiting"}'), await metric('hookrelay_fanout_deferred_total{where="outbox"}')]).toEqual(before);

    // WORKER_SDK_METRICS: the SDK's counts follow hookrelay's on the worker's endpoint, for this task queue (a
    // workflow counts as completed once its last task's completion reached Temporal, a moment after its request).
    const scrape = async () => (await fetch(`http://127.0.0.1:${(proc as Proc & { metricsPort: number }).metricsPort}/metrics`)).text();
    const line = (text: string, re: RegExp) => text.split('\n').find((l) => re.test(l) && l.includes('task_queue="start-queue"'));
    const text = await eventually(async () => {
      const t = await scrape();
      const completed = line(t, /^temporal_workflow_completed(_total)?\{.*workflow_type="deliveryWorkflow"/);
      return Number(completed?.split(' ').pop()) >= 36 && t;
    }, 10_000);
    expect(text).toContain('hookrelay_deliveries_total');
    expect(line(text, /^temporal_worker_task_slots_available\{.*worker_type="WorkflowWorker"/)).toBeDefined();
  }, 120_000);

  it('a process killed with starts still queued: the restarted one starts them from the outbox', async () => {
    const from = rcv.received.length;
    const batch = await admin.post('/v1/events/batch', { events: Array.from({ length: 20 }, (_, i) => ({ type: 'q.tick', data: { batch: i } })) });
    expect(batch.status, JSON.stringify(batch.body)).toBe(202);
    proc.kill('SIGKILL');
    await proc.exited;
    const ids: string[] = batch.body.data.map((e: { id: string }) => e.id);
    proc = await startAllInOne({ env: { ...env, FANOUT_SWEEP_AGE_MS: '1000', FANOUT_SWEEP_INTERVAL_MS: '500' }, logDir, name: 'hookrelay-queue-2' });
    admin = client(stack().env.ADMIN_KEY, proc.url);
    // The dead process's entries are its own until its heartbeat is 20 s old; then the new process's sweep takes
    // them. At least once: an attempt the kill cut short may be sent again, but every acknowledged event arrives.
    await eventually(async () => {
      const got = new Set(rcv.received.slice(from).map((r) => String(r.headers['webhook-id'])));
      return ids.every((id) => got.has(id));
    }, 60_000);
    await eventually(async () => (await metric('hookrelay_fanout_queue_deliveries{state="queued"}')) === 0, 10_000);
  }, 180_000);
});
