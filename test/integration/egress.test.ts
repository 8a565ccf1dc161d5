import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, newOrg, quietFor, stack, testStore } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { createSender } from '../../activities/http.js';
import { orgRepo } from '../../src/storage/repos/orgs.js';
// @ts-expect-error plain JS module shared with npm start
import { startApi, startWorker } from '../../scripts/stack.js';

type Proxy = { url: string; lines: string[]; child: ChildProcess };

/** The CONNECT proxy as its own process on loopback (on `listenOn`, to come back where a stopped one was). */
async function startProxy(listenOn = 0): Promise<Proxy> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../support/connect-proxy.mjs'), String(listenOn)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const port = await new Promise<number>((ok, fail) => {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        const m = /^listening (\d+)$/.exec(line);
        if (m) ok(Number(m[1]));
        else lines.push(line);
      }
    });
    child.once('exit', () => fail(new Error('proxy exited')));
  });
  return { url: `http://127.0.0.1:${port}`, lines, child };
}

async function stopProxy(p: Proxy): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((ok) => p.child.once('exit', ok));
  p.child.kill();
  await exited;
}

// Egress proxy (issue 13): deliveries leave through an HTTP CONNECT proxy, deployment-wide or per organization,
// and the SSRF rules are applied to the target before anything is handed to the proxy.
describe('egress proxy', () => {
  let proxy: Proxy;
  let orgProxy: Proxy;
  let rcv: Receiver;
  let api: { url: string; stop(): Promise<void> };
  let worker: { stop(): Promise<void>; metricsPort: number };
  beforeAll(async () => {
    [proxy, orgProxy] = await Promise.all([startProxy(), startProxy()]);
    rcv = await startReceiver();
    const logDir = join(stack().logDir, 'egress');
    const env = { ...stack().env, TEMPORAL_TASK_QUEUE: 'egress', EGRESS_PROXY_URL: proxy.url, WORKER_METRICS_PORT: '0' };
    api = await startApi({ env, logDir, name: 'api-egress' });
    worker = await startWorker({ env, logDir, name: 'worker-egress' });
  }, 120_000);
  afterAll(async () => {
    for (const p of [worker, api]) await p?.stop().catch(() => {});
    await rcv?.close();
    proxy?.child.kill();
    orgProxy?.child.kill();
  });

  it('refuses a private target before the proxy is asked for anything (IP literal and a name that resolves to one)', async () => {
    const sender = createSender({ allowPrivateTargets: false, proxyUrl: proxy.url });
    const before = proxy.lines.length;
    for (const url of [rcv.url, rcv.url.replace('127.0.0.1', 'localhost'), 'http://169.254.169.254/latest/meta-data']) {
      const r = await sender.send(url, {}, '{}', 3000);
      expect(r.error, url).toBe('blocked_address');
    }
    expect(proxy.lines.length).toBe(before);
    expect(rcv.received).toHaveLength(0);
    await sender.close();
  });

  it('delivers through the deployment proxy, or through an organization\'s own, to the address that was checked', async () => {
    const { admin: a } = await newOrg('egress');
    const admin = client(a.key, api.url);
    await admin.post('/v1/event-types', { name: 'egress.ping' });
    await admin.post('/v1/webhooks', { url: rcv.url.replace('127.0.0.1', 'localhost'), events: ['egress.ping'] });
    await admin.post('/v1/events', { type: 'egress.ping', data: { n: 1 } });
    await rcv.waitFor(1);
    const port = new URL(rcv.url).port;
    // The proxy was asked for the checked address, not the name; the name went in the Host header.
    expect(proxy.lines).toContain(`CONNECT 127.0.0.1:${port}`);
    expect(rcv.received[0].headers.host).toBe(`localhost:${port}`);

    const { org: other, admin: b } = await newOrg('egress-own');
    await orgRepo(await testStore()).set(other._id, { egress_proxy_url: orgProxy.url });
    const otherAdmin = client(b.key, api.url);
    await otherAdmin.post('/v1/event-types', { name: 'egress.ping' });
    await otherAdmin.post('/v1/webhooks', { url: rcv.url, events: ['egress.ping'] });
    const sentBefore = proxy.lines.length;
    await otherAdmin.post('/v1/events', { type: 'egress.ping', data: { n: 2 } });
    await rcv.waitFor(2);
    expect(orgProxy.lines).toContain(`CONNECT 127.0.0.1:${port}`);
    expect(proxy.lines.length).toBe(sentBefore);
  }, 60_000);

  // Issue 24, item 2: with the egress proxy down, attempts were recorded as the endpoint's connection_refused, used
  // up its schedule and counted toward its failing alerts and auto-disabling.
  it('a proxy that is down is hookrelay\'s failure: the delivery waits without burning an attempt or the webhook\'s health, and goes once the proxy is back', async () => {
    const dead = await startProxy();
    const proxyPort = Number(new URL(dead.url).port);
    await stopProxy(dead);
    const { org, admin: a } = await newOrg('egress-down');
    await orgRepo(await testStore()).set(org._id, { egress_proxy_url: dead.url });
    const admin = client(a.key, api.url);
    await admin.post('/v1/event-types', { name: 'egress.ping' });
    // Two attempts 1 s apart: without a proxy of its own to blame, the schedule would be spent within seconds.
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, events: ['egress.ping'], retry_schedule: ['1s'] });
    const received = rcv.received.length;
    const { body: ev } = await admin.post('/v1/events', { type: 'egress.ping', data: { n: 3 } });
    const dlv = await eventually(async () => (await admin.get(`/v1/events/${ev.id}`)).body.deliveries?.[0]?.id as string | undefined, 10_000);
    const delivery = async () => (await admin.get(`/v1/deliveries/${dlv}`)).body;
    await eventually(async () => (await delivery()).waiting?.reason === 'proxy_unavailable', 15_000);
    await quietFor(4000);
    const held = await delivery();
    expect(held.status).toBe('pending');
    expect(held.attempt).toBe(0);
    // The attempt's record says whose failure it was; it is the only one (the schedule did not move).
    expect(held.attempts.map((x: { attempt: number; error: string }) => [x.attempt, x.error])).toEqual([[1, 'proxy_unavailable']]);
    expect((await admin.get(`/v1/webhooks/${wh.id}`)).body.health_status).toBe('unknown');

    // The worker shows it: a metric, and its /readyz (503, with the proxy by host and port, never its credentials).
    const base = `http://127.0.0.1:${worker.metricsPort}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (line: string) => Number(text.split('\n').find((l) => l.startsWith(line))?.split(' ').pop());
    expect(value('hookrelay_egress_failures_total{error="proxy_unavailable"}')).toBeGreaterThanOrEqual(1);
    expect(value('hookrelay_egress_unavailable{path="proxy"}')).toBe(1);
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    const downBody = await down.json();
    expect(downBody.status).toBe('degraded');
    expect(downBody.checks.egress.proxies).toContainEqual(expect.objectContaining({ proxy: `http://127.0.0.1:${proxyPort}`, status: 'unavailable' }));

    // The proxy comes back on its port: the delivery goes as its first attempt, and nothing counted against the webhook.
    const back = await startProxy(proxyPort);
    try {
      await rcv.waitFor(received + 1, 90_000);
      const done = await eventually(async () => {
        const d = await delivery();
        return d.status === 'delivered' ? d : null;
      }, 10_000);
      expect(done.attempt).toBe(1);
      expect(done.waiting).toBeNull();
      expect(done.attempts.map((x: { attempt: number; error: string | null; status_code: number | null }) => [x.attempt, x.error, x.status_code])).toEqual([[1, null, 200]]);
      expect(back.lines).toContain(`CONNECT 127.0.0.1:${new URL(rcv.url).port}`);
      // (A success's health is written within a second.)
      await eventually(async () => (await admin.get(`/v1/webhooks/${wh.id}`)).body.health_status === 'healthy', 5000);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await stopProxy(back);
    }
  }, 150_000);
});
