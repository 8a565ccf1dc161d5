import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, newOrg, stack } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
// @ts-expect-error plain JS module shared with npm start
import { freePort, startApi, startTemporal, startWorker } from '../../scripts/stack.js';

type Proc = { pid: number; stop(): Promise<void>; kill(signal?: string): Promise<unknown>; url?: string };

// Crashes: kill -9 of the worker mid-delivery and a restart of the Temporal dev server with its db file.
// This file runs its own Temporal server, API and worker (its own task queue) beside the shared test stack.
describe('durability', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-chaos-'));
  const logDir = join(stack().logDir, 'chaos');
  let temporal: Proc;
  let api: Proc & { url: string };
  let worker: Proc;
  let port: number;
  let env: Record<string, string>;
  let rcv: Receiver;

  beforeAll(async () => {
    port = await freePort();
    temporal = await startTemporal({ port, dbFile: join(dir, 'temporal.db'), logDir, headless: true });
    env = { ...stack().env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_TASK_QUEUE: 'chaos' };
    api = await startApi({ env, logDir });
    worker = await startWorker({ env, logDir });
  });
  afterAll(async () => {
    await rcv?.close();
    for (const p of [worker, api, temporal]) await p?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('every event is delivered after kill -9 of the worker and a Temporal restart; every copy carries its event id as webhook-id', async () => {
    const { admin: local } = await newOrg('chaos');
    const admin = client(local.key, api.url);
    // Slow answers keep attempts in flight when the worker dies; the first attempt of each event fails so that
    // retries are waiting on durable timers when Temporal restarts.
    const seen = new Map<string, number>();
    rcv = await startReceiver((_n, req) => {
      const id = String(req.headers['webhook-id']);
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      return count === 1 ? { status: 500 } : { status: 200, delayMs: 300 };
    });
    await admin.post('/v1/event-types', { name: 'order.paid' });
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, events: ['order.paid'], retry_schedule: ['3s', '3s', '3s', '3s'] });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await admin.post('/v1/events', { type: 'order.paid', data: { i } })).body.id);

    // First attempts have failed; retries are waiting on 3 s timers. Kill the worker hard, restart Temporal.
    await rcv.waitFor(20);
    await worker.kill('SIGKILL');
    await temporal.stop();
    // While Temporal is down the API says so, and a publish is refused with 503 having written nothing.
    await eventually(async () => (await fetch(`${api.url}/readyz`)).status === 503, 10_000, 200);
    // The publish path caches Temporal's health for a second: until it notices, a publish is still accepted (and
    // its event delivered later). Publish until one is refused; the refused one must have written nothing.
    const total = async () => (await admin.get('/v1/events')).body.pagination.total as number;
    let accepted = 0;
    const refused = await eventually(async () => {
      const before = await total();
      const res = await admin.post('/v1/events', { type: 'order.paid', data: { probe: accepted } });
      if (res.status === 202) {
        ids.push(res.body.id);
        accepted++;
        return null;
      }
      return { res, before, after: await total() };
    }, 10_000, 100);
    expect(refused.after).toBe(refused.before);
    expect(refused.res.status).toBe(503);
    expect(refused.res.body.error.code).toBe('unavailable');
    temporal = await startTemporal({ port, dbFile: join(dir, 'temporal.db'), logDir, headless: true });
    worker = await startWorker({ env, logDir });

    // While second attempts are in flight (300 ms answers), kill the worker again.
    await eventually(async () => [...seen.values()].some((c) => c >= 2), 30_000, 20);
    await worker.kill('SIGKILL');
    worker = await startWorker({ env, logDir });

    const all = await eventually(async () => {
      const res = await admin.get(`/v1/webhooks/${wh.id}/deliveries?per_page=100`);
      return res.body.data.length === ids.length && res.body.data.every((d: any) => d.status === 'delivered') && res.body.data;
    }, 90_000, 250);
    expect(new Set(all.map((d: any) => d.event_id))).toEqual(new Set(ids));
    // Every event reached the receiver, and every copy of it — first failed attempt, success, and any repeat
    // after a kill (at-least-once) — carried its own event id as webhook-id and in the signed body.
    expect(new Set(seen.keys())).toEqual(new Set(ids));
    for (const r of rcv.received) expect(JSON.parse(r.body).id).toBe(r.headers['webhook-id']);
    for (const id of ids) expect(seen.get(id)).toBeGreaterThanOrEqual(2);
    const repeats = [...seen.values()].reduce((a, n) => a + n - 2, 0);
    // The delivery log accounts for every request that reached the receiver: each attempt's record counts its
    // sends, including the second send of an attempt whose worker was killed after sending.
    let logged = 0;
    for (const d of all) {
      const full = (await admin.get(`/v1/deliveries/${d.id}`)).body;
      const sends = full.attempts.reduce((a: number, x: any) => a + x.sends, 0);
      expect(sends, `delivery ${d.id}`).toBeGreaterThanOrEqual(seen.get(d.event_id)!);
      expect(full.attempts.every((x: any) => !x.in_flight)).toBe(true);
      logged += sends;
    }
    expect(logged).toBeGreaterThanOrEqual(rcv.received.length);
    console.log(`chaos: ${ids.length} events, ${rcv.received.length} requests received, ${logged} sends in the delivery log, ${repeats} repeated after the kills`);
  }, 180_000);
});

describe('SSRF guard (private targets not allowed)', () => {
  let api: Proc & { url: string };
  let worker: Proc;
  let rcv: Receiver;
  beforeAll(async () => {
    const logDir = join(stack().logDir, 'ssrf');
    const env = { ...stack().env, TEMPORAL_TASK_QUEUE: 'ssrf', ALLOW_PRIVATE_TARGETS: 'false', ALLOW_HTTP_TARGETS: 'true' };
    // This API accepts private targets (so the webhooks exist); its worker does not: the send-time guard is tested.
    api = await startApi({ env: { ...env, ALLOW_PRIVATE_TARGETS: 'true' }, logDir });
    worker = await startWorker({ env, logDir });
    rcv = await startReceiver();
  });
  afterAll(async () => {
    await rcv.close();
    for (const p of [worker, api]) await p.stop().catch(() => {});
  });

  it('blocks loopback, link-local metadata, 10/8, ::1 and a hostname resolving to loopback', async () => {
    const { admin: local } = await newOrg('ssrf');
    const admin = client(local.key, api.url);
    await admin.post('/v1/event-types', { name: 'probe' });
    const targets = [
      `http://127.0.0.1:${rcv.port}/hook`,
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/hook',
      `http://[::1]:${rcv.port}/hook`,
      `http://localhost:${rcv.port}/hook`,
      `http://[::ffff:127.0.0.1]:${rcv.port}/hook`,
    ];
    const hooks = [];
    for (const url of targets) {
      const res = await admin.post('/v1/webhooks', { url, events: ['probe'], retry_schedule: [] });
      expect(res.status).toBe(201);
      hooks.push(res.body.id);
    }
    await admin.post('/v1/events', { type: 'probe', data: {} });
    for (const id of hooks) {
      const d = await eventually(async () => {
        const [x] = (await admin.get(`/v1/webhooks/${id}/deliveries`)).body.data;
        return x?.status === 'failed' && x;
      });
      const full = (await admin.get(`/v1/deliveries/${d.id}`)).body;
      expect(full.attempts[0].error).toBe('blocked_address');
      expect(full.status_code).toBeNull();
    }
    expect(rcv.received).toHaveLength(0);
  });

  it('an API in production mode refuses http:// and non-public targets at create time and stores nothing', async () => {
    const { ALLOW_HTTP_TARGETS: _h, ALLOW_PRIVATE_TARGETS: _p, ...base } = stack().env;
    const prodApi = await startApi({ env: { ...base, HOOKRELAY_ENV: 'production', TEMPORAL_TASK_QUEUE: 'ssrf-prod' }, logDir: join(stack().logDir, 'ssrf'), name: 'api-production' });
    try {
      const { admin: local } = await newOrg('prod');
      const admin = client(local.key, prodApi.url);
      await admin.post('/v1/event-types', { name: 'probe' });
      const res = await admin.post('/v1/webhooks', { url: `http://127.0.0.1:${rcv.port}/hook`, events: ['probe'] });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toContainEqual({ path: 'url', message: 'must be an https URL' });
      expect((await admin.get('/v1/webhooks')).body.pagination.total).toBe(0);
      // Loopback, private and metadata addresses are refused when the webhook is saved, literal or by name.
      for (const url of ['https://127.0.0.1/hook', 'https://localhost/hook', 'https://[::1]/hook', 'https://10.1.2.3/hook', 'https://169.254.169.254/latest', 'https://[::ffff:127.0.0.1]/x']) {
        const r = await admin.post('/v1/webhooks', { url, events: ['probe'] });
        expect(r.status, url).toBe(400);
        expect(r.body.error.details[0].message).toMatch(/not a public address/);
      }
      expect((await admin.get('/v1/webhooks')).body.pagination.total).toBe(0);
      // A public IP literal passes (delivery to it is still checked by the worker's SSRF guard at connection time).
      expect((await admin.post('/v1/webhooks', { url: 'https://93.184.215.14/in', events: ['probe'] })).status).toBe(201);
    } finally {
      await prodApi.stop();
    }
  });
});
