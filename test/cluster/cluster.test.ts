import { spawn } from 'node:child_process';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { openSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { client, eventually, newOrg, stack, type Client } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

// What only a multi-process deployment can show: one worker killed mid-load while the other finishes every
// delivery, the Temporal server restarted under running deliveries, one API process dying while the other
// (behind the balancer) keeps answering. Runs on the cluster profile (vitest.cluster.config.ts).
const cluster = inject('cluster');
let admin: Client;
let rcv: Receiver;
const seen = new Map<string, number>();

beforeAll(async () => {
  ({ admin } = await newOrg('cluster'));
  rcv = await startReceiver((_n, req) => {
    const id = String(req.headers['webhook-id']);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    return { status: 200, delayMs: 50 };
  });
  expect((await admin.post('/v1/event-types', { name: 'order.paid' })).status).toBe(201);
});
let restarted: ReturnType<typeof spawn> | null = null;
let ferretRestarted: ReturnType<typeof spawn> | null = null;
afterAll(async () => {
  await rcv.close();
  // The Temporal server and the FerretDB this file restarted stay up: the cluster's other test files may run after
  // this one (vitest orders files by their last durations) and use them on the same ports. Their pids are in the
  // suite's pid dir, so scripts/test.js stops them at the end (the global teardown knows only the first ones).
  restarted?.unref();
  ferretRestarted?.unref();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function publishMany(n: number, tag: string) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    // A 503 means "no effect, retry" (e.g. an API process that has not yet seen the Temporal server come back):
    // retried with the same idempotency key, as a client would.
    const res = await eventually(async () => {
      const r = await admin.post('/v1/events', { type: 'order.paid', data: { tag, i } }, { 'idempotency-key': `${tag}-${i}` });
      return r.status === 503 ? null : r;
    }, 30_000, 200);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    ids.push(res.body.id);
  }
  return ids;
}

/** Every id reached the receiver, and the delivery log of each says delivered. */
async function allDelivered(whId: string, ids: string[], timeoutMs = 60_000) {
  await eventually(() => Promise.resolve(ids.every((id) => seen.has(id))), timeoutMs, 200);
  await eventually(async () => {
    const log = (await admin.get(`/v1/webhooks/${whId}/deliveries?per_page=100&status=delivered`)).body.data as { event_id: string }[];
    const done = new Set(log.map((d) => d.event_id));
    return ids.every((id) => done.has(id));
  }, timeoutMs, 300);
}

const mode = (p: string) => statSync(p).mode & 0o777;
function walk(dir: string): { path: string; dir: boolean }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? [{ path, dir: true }, ...walk(path)] : e.isFile() ? [{ path, dir: false }] : [];
  });
}

describe('cluster profile: two workers, two API processes, a real Temporal server on PostgreSQL', () => {
  it("keeps data at rest its owner's only: the data dir, PostgreSQL's data dir and every file in them, and the logs (issue 24, item 6)", () => {
    const { dataDir, logDir } = stack();
    expect(mode(dataDir).toString(8)).toBe('700');
    expect(mode(cluster.pgData).toString(8)).toBe('700');
    const entries = [
      ...walk(dataDir),
      ...(cluster.pgData.startsWith(dataDir) ? [] : walk(cluster.pgData)),
      ...(logDir.startsWith(dataDir) ? [] : walk(logDir).filter((e) => e.path.endsWith('.log'))),
    ];
    // PostgreSQL's tables and WAL, the logs, Temporal's and FerretDB's state and config are all covered.
    expect(entries.some((e) => /pg_wal/.test(e.path))).toBe(true);
    expect(entries.some((e) => e.path.endsWith('.log'))).toBe(true);
    // A directory a process may let others through (0711: PostgreSQL's socket directory's parent as root) is
    // still closed to listing; a file is 0600.
    const open = entries.filter((e) => (e.dir ? (mode(e.path) & 0o066) !== 0 : (mode(e.path) & 0o077) !== 0)).map((e) => `${mode(e.path).toString(8)} ${relative(dataDir, e.path)}`);
    expect(open).toEqual([]);
  });

  it('runs the production shape: separate API and worker processes, the Temporal server has several history shards', async () => {
    expect(cluster.apiPids).toHaveLength(2);
    expect(cluster.workerPids).toHaveLength(2);
    for (const url of cluster.apiUrls) expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const me = await admin.get('/v1/me');
    expect(me.status).toBe(200);
  });

  it('kill -9 of one worker mid-load: the other worker finishes every delivery', async () => {
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, events: ['order.paid'], retry_schedule: ['1s', '2s', '2s'] });
    const first = await publishMany(20, 'kill-worker-a');
    const [victim, survivor] = cluster.workerPids;
    process.kill(victim, 'SIGKILL');
    await eventually(() => Promise.resolve(!alive(victim)), 5000, 50);
    const second = await publishMany(20, 'kill-worker-b');
    expect(alive(survivor)).toBe(true);
    await allDelivered(wh.id, [...first, ...second], 90_000);
    // At least once: a copy sent by the killed worker may arrive again, always under the same webhook-id.
    for (const id of [...first, ...second]) expect(seen.get(id)).toBeGreaterThanOrEqual(1);
  });

  it('restart of the Temporal server: deliveries waiting on timers and new publishes all complete', async () => {
    // The first attempt of each event fails, so retries wait on durable timers across the restart.
    const failedOnce = new Set<string>();
    rcv.setResponder((_n, req) => {
      const id = String(req.headers['webhook-id']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (!failedOnce.has(id)) {
        failedOnce.add(id);
        return { status: 503 };
      }
      return { status: 200 };
    });
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, events: ['order.paid'], retry_schedule: ['3s', '3s', '3s'] });
    const before = await publishMany(10, 'restart-temporal-a');
    await eventually(() => Promise.resolve(before.every((id) => failedOnce.has(id))), 30_000, 100);

    process.kill(cluster.temporalServerPid, 'SIGKILL');
    await eventually(() => Promise.resolve(!alive(cluster.temporalServerPid)), 5000, 50);
    // While Temporal is down, the API says so; nothing acknowledged is lost.
    await eventually(async () => (await admin.post('/v1/events', { type: 'order.paid', data: {} })).status === 503, 15_000, 200);
    const { cmd, args, env } = cluster.temporalRestart;
    const out = openSync(cluster.temporalLog, 'a', 0o600);
    restarted = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
    const pidDir = process.env.HOOKRELAY_PID_DIR;
    if (pidDir && restarted.pid) writeFileSync(join(pidDir, String(restarted.pid)), '');
    // Every API process sees the Temporal server again.
    for (const url of cluster.apiUrls) await eventually(async () => (await fetch(`${url}/readyz`)).status === 200, 90_000, 500);
    const after = await publishMany(10, 'restart-temporal-b');
    await allDelivered(wh.id, [...before, ...after], 90_000);
    rcv.setResponder((_n, req) => {
      const id = String(req.headers['webhook-id']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      return { status: 200 };
    });
  });

  it('one API process dies: the other keeps answering behind the balancer, and publishes keep being delivered', async () => {
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, events: ['order.paid'] });
    const [dead, live] = cluster.apiPids;
    process.kill(dead, 'SIGKILL');
    await eventually(() => Promise.resolve(!alive(dead)), 5000, 50);
    const direct = client(admin.key, cluster.apiUrls[1]);
    expect((await direct.get('/v1/me')).status).toBe(200);
    // Through the balancer every request still answers (a connection refused by the dead one goes to the next).
    const ids = await publishMany(20, 'api-dies');
    expect(alive(live)).toBe(true);
    await allDelivered(wh.id, ids, 60_000);
  });

  it('noisy load beside a quiet application, then kill -9 of FerretDB: quiet deliveries arrive, the API answers in time, 503 within 2 s, full service after the restart alone', async () => {
    // Issue 23: the cluster once wedged under exactly this load (hanging endpoints of one application beside
    // another publishing normally): every API request and /readyz then waited for ever.
    const hung = new Set<Socket>();
    const hole = createTcpServer((sock) => {
      hung.add(sock);
      sock.on('data', () => {}).on('error', () => {}).on('close', () => hung.delete(sock));
    });
    await new Promise<void>((ok) => hole.listen(0, '127.0.0.1', ok));
    const holeUrl = `http://127.0.0.1:${(hole.address() as { port: number }).port}`;
    const quiet = await startReceiver();
    let cleanup = async () => {};
    try {
      const tag = Math.random().toString(36).slice(2, 8);
      const noisyApp = (await admin.put(`/v1/applications/uid/noisy-${tag}`, { name: 'noisy' })).body;
      const quietApp = (await admin.put(`/v1/applications/uid/quiet-${tag}`, { name: 'quiet' })).body;
      const noisyHooks: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await admin.post(`/v1/applications/${noisyApp.id}/webhooks`, { url: `${holeUrl}/h/${i}`, events: ['order.paid'], timeout_ms: 10_000 });
        expect(r.status).toBe(201);
        noisyHooks.push(r.body.id);
      }
      // Afterwards the noisy deliveries go (cancelled with their webhooks): the cluster's later test files do not
      // run beside their retries.
      cleanup = async () => {
        for (const id of noisyHooks) await admin.del(`/v1/webhooks/${id}`).catch(() => {});
      };
      expect((await admin.post(`/v1/applications/${quietApp.id}/webhooks`, { url: quiet.url, events: ['order.paid'] })).status).toBe(201);

      // Bursts: 3 batches of 20 events to the 10 hanging endpoints (600 deliveries), while the quiet
      // application publishes 15 events at 5/s.
      const bursts = (async () => {
        for (let b = 0; b < 3; b++) {
          const events = Array.from({ length: 20 }, (_, i) => ({ application: noisyApp.id, type: 'order.paid', data: { burst: b, i } }));
          const r = await admin.post('/v1/events/batch', { events }, { 'idempotency-key': `noisy-${tag}-${b}` });
          expect(r.status, JSON.stringify(r.body)).toBe(202);
          await new Promise((ok) => setTimeout(ok, 1000));
        }
      })();
      const sentAt = new Map<string, number>();
      for (let i = 0; i < 15; i++) {
        const r = await admin.post('/v1/events', { application: quietApp.id, type: 'order.paid', data: { quiet: i } });
        expect(r.status).toBe(202);
        sentAt.set(r.body.id, Date.now());
        await new Promise((ok) => setTimeout(ok, 200));
      }
      await bursts;
      await eventually(() => Promise.resolve([...sentAt.keys()].every((id) => quiet.received.some((q) => q.headers['webhook-id'] === id))), 60_000, 200);
      const lateness = [...sentAt].map(([id, at]) => quiet.received.find((q) => q.headers['webhook-id'] === id)!.at - at);
      expect(Math.max(...lateness), `quiet deliveries' publish→receive (ms): ${lateness.join(', ')}`).toBeLessThan(10_000);
      expect(hung.size).toBeGreaterThan(0); // the noisy endpoints really are holding requests

      // The API answers in time while the noisy deliveries hang.
      for (const path of ['/readyz', '/v1/webhooks?per_page=5', '/v1/me']) {
        const t0 = Date.now();
        const r = await fetch(`${stack().apiUrl}${path}`, { headers: { authorization: `Bearer ${admin.key}` } });
        expect(r.status, path).toBe(200);
        expect(Date.now() - t0, path).toBeLessThan(1000);
      }

      // kill -9 of FerretDB with requests in flight: the first 503 within 2 s of the kill, every request sent after
      // the kill answered within 2 s (none hangs); nothing but 202 (stored before the kill) or 503.
      const answers: { status: number; ms: number; at: number; err?: string; sinceKill?: number }[] = [];
      let killedAt: number | undefined;
      let stop = false;
      const load = Promise.all(
        Array.from({ length: 4 }, async (_, w) => {
          for (let i = 0; !stop; i++) {
            const t0 = Date.now();
            const r = await admin
              .post('/v1/events', { application: quietApp.id, type: 'order.paid', data: { during: w, i } }, { 'idempotency-key': `kill-${tag}-${w}-${i}` })
              .catch((err: Error) => ({ status: 0, body: `${err.message}: ${(err.cause as Error | undefined)?.message}` }));
            answers.push({ status: r.status, ms: Date.now() - t0, at: t0, ...(r.status === 0 ? { err: String(r.body), sinceKill: t0 - (killedAt ?? t0) } : {}) });
          }
        }),
      );
      await new Promise((ok) => setTimeout(ok, 500));
      process.kill(cluster.ferretPid, 'SIGKILL');
      killedAt = Date.now();
      await eventually(() => Promise.resolve(answers.filter((a) => a.status === 503).length >= 8), 15_000, 50);
      stop = true;
      await load;
      // Only 202 (stored before the kill) or 503. (A connection dropped here once in four runs was the balancer's:
      // it could send a connection refused by the dead API back to it; fixed in scripts/cluster.js.)
      expect(answers.every((a) => a.status === 202 || a.status === 503), JSON.stringify(answers.filter((a) => a.status !== 202 && a.status !== 503))).toBe(true);
      const first503 = Math.min(...answers.filter((a) => a.status === 503).map((a) => a.at + a.ms));
      expect(first503 - killedAt!, 'the first 503 after the kill (ms)').toBeLessThan(2000);
      const sentAfter = answers.filter((a) => a.at >= killedAt!);
      expect(Math.max(...sentAfter.map((a) => a.ms)), `answer times of requests sent after the kill: ${sentAfter.map((a) => `${a.status}:${a.ms}`).join(' ')}`).toBeLessThan(2000);
      expect((await fetch(`${stack().apiUrl}/readyz`)).status).toBe(503);

      // FerretDB alone is started again: the API and the workers heal by themselves.
      const { cmd, args, log } = cluster.ferretRestart;
      const out = openSync(log, 'a', 0o600);
      ferretRestarted = spawn(cmd, args, { stdio: ['ignore', out, out] });
      const pidDir = process.env.HOOKRELAY_PID_DIR;
      if (pidDir && ferretRestarted.pid) writeFileSync(join(pidDir, String(ferretRestarted.pid)), '');
      await eventually(async () => (await fetch(`${stack().apiUrl}/readyz`)).status === 200, 60_000, 250);
      const after = await eventually(async () => {
        const r = await admin.post('/v1/events', { application: quietApp.id, type: 'order.paid', data: { after: true } });
        return r.status === 202 ? r : null;
      }, 30_000, 250);
      await eventually(() => Promise.resolve(quiet.received.some((q) => q.headers['webhook-id'] === after.body.id)), 60_000, 200);
    } finally {
      await cleanup();
      for (const sock of hung) sock.destroy();
      await new Promise<void>((ok) => hole.close(() => ok()));
      await quiet.close();
    }
  });
});
