import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, newOrg, stack, testStore } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { createSender } from '../../activities/http.js';
import { orgRepo } from '../../src/storage/repos/orgs.js';
// @ts-expect-error plain JS module shared with npm start
import { startApi, startWorker } from '../../scripts/stack.js';

type Proxy = { url: string; lines: string[]; child: ChildProcess };

/** The CONNECT proxy as its own process on loopback. */
async function startProxy(): Promise<Proxy> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../support/connect-proxy.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
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

// Egress proxy (issue 13): deliveries leave through an HTTP CONNECT proxy, deployment-wide or per organization,
// and the SSRF rules are applied to the target before anything is handed to the proxy.
describe('egress proxy', () => {
  let proxy: Proxy;
  let orgProxy: Proxy;
  let rcv: Receiver;
  let api: { url: string; stop(): Promise<void> };
  let worker: { stop(): Promise<void> };
  beforeAll(async () => {
    [proxy, orgProxy] = await Promise.all([startProxy(), startProxy()]);
    rcv = await startReceiver();
    const logDir = join(stack().logDir, 'egress');
    const env = { ...stack().env, TEMPORAL_TASK_QUEUE: 'egress', EGRESS_PROXY_URL: proxy.url, WORKER_METRICS_PORT: '-1' };
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
});
