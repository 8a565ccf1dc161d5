import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, stack } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
// @ts-expect-error plain JS module shared with npm start
import { freePort, startApi, startFerret, startTemporal, startWorker } from '../../scripts/stack.js';

type Proc = { pid: number; stop(): Promise<void>; kill(signal?: string): Promise<unknown>; url?: string };

// Nothing acknowledged is lost, whatever dies: while events are published (each with its idempotency key,
// retried until acknowledged), kill -9 hits the worker, the API, FerretDB and the Temporal server in turn, each
// restarted on its own data. Afterwards every acknowledged event has reached the receiver, every copy carries its
// event id, and the delivery log accounts for every request received. This file runs its own stack.
describe('chaos: kill -9 of each part in turn under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-chaos-all-'));
  const logDir = join(stack().logDir, 'chaos-all');
  const procs: Record<'temporal' | 'ferretdb' | 'api' | 'worker', Proc> = {} as never;
  let ports: { temporal: number; mongo: number; api: number };
  let env: Record<string, string>;
  let rcv: Receiver;

  const start = {
    temporal: () => startTemporal({ port: ports.temporal, dbFile: join(dir, 'temporal.db'), logDir, headless: true }),
    ferretdb: () => startFerret({ port: ports.mongo, dataDir: join(dir, 'ferretdb'), logDir }),
    api: () => startApi({ env, logDir }),
    worker: () => startWorker({ env, logDir }),
  };

  /**
   * Starts a killed part again on its data. A start that does not report ready within its 60 s is killed and tried
   * once more, and said so: once in a CI run the API did not come up in time after its kill (the cause is not known
   * yet; the processes' logs of a red run are kept, see scripts/test.js). What this test checks — nothing
   * acknowledged is lost — holds either way; a second failure fails it.
   */
  async function restart(name: keyof typeof start): Promise<Proc> {
    try {
      return await start[name]();
    } catch (err) {
      console.error(`chaos-all: ${name} did not start (${(err as Error).message}); killing it and starting it once more`);
      // The half-started process is a child of this test process; only the part being restarted matches.
      const pattern = { api: 'src/main.ts', worker: 'src/worker.ts', ferretdb: 'ferretdb', temporal: 'start-dev' }[name];
      const { execFileSync } = await import('node:child_process');
      try {
        execFileSync('pkill', ['-9', '-P', String(process.pid), '-f', pattern]);
      } catch {
        // nothing matched: it had exited
      }
      await new Promise((r) => setTimeout(r, 500));
      return await start[name]();
    }
  }

  beforeAll(async () => {
    ports = { temporal: await freePort(), mongo: await freePort(), api: await freePort() };
    env = {
      ...stack().env, PORT: String(ports.api), TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`, MONGODB_URL: `mongodb://127.0.0.1:${ports.mongo}/`,
      TEMPORAL_TASK_QUEUE: 'chaos-all', MONGODB_DB: 'hookrelay_chaos',
    };
    procs.temporal = await start.temporal();
    procs.ferretdb = await start.ferretdb();
    procs.api = await start.api();
    procs.worker = await start.worker();
    rcv = await startReceiver(() => ({ status: 200, delayMs: 20 }));
  }, 180_000);

  afterAll(async () => {
    await rcv?.close();
    for (const p of [procs.worker, procs.api, procs.ferretdb, procs.temporal]) await p?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('every acknowledged event is delivered, every copy carries its event id, the log accounts for every request', async () => {
    const apiUrl = `http://127.0.0.1:${ports.api}`;
    // This stack's own database: its API created organization "default" with the suite's ADMIN_KEY.
    const setup = client(env.ADMIN_KEY, apiUrl);
    expect((await setup.post('/v1/event-types', { name: 'chaos.tick' })).status).toBe(201);
    const wh = await setup.post('/v1/webhooks', { url: rcv.url, events: ['chaos.tick'], retry_schedule: ['1s', '2s', '3s', '5s', '5s', '10s', '10s', '10s'] });
    expect(wh.status).toBe(201);

    const acked = new Map<string, string>(); // idempotency key → event id
    let stop = false;
    // At least 300 events, and publishing goes on until every part has been killed and restarted (a fast machine
    // with slow restarts would otherwise publish all 300 before the last kill); bounded at 2,000.
    let killsDone = false;
    let published = 0;
    const publisher = (async () => {
      for (let i = 0; (i < 300 || !killsDone) && i < 2000 && !stop; i++, published = i) {
        const key = `tick-${i}`;
        for (let tries = 0; !acked.has(key) && tries < 400; tries++) {
          try {
            const res = await setup.post('/v1/events', { type: 'chaos.tick', data: { i } }, { 'idempotency-key': key });
            if (res.status === 202) acked.set(key, res.body.id);
            else await new Promise((r) => setTimeout(r, 100));
          } catch {
            await new Promise((r) => setTimeout(r, 100)); // the API is down: the same key again
          }
        }
      }
    })();

    // kill -9 each part in turn while the publisher runs, and start it again on the same data.
    for (const name of ['worker', 'api', 'ferretdb', 'temporal'] as const) {
      const before = acked.size;
      await eventually(() => Promise.resolve(acked.size >= before + 20), 60_000, 50);
      await procs[name].kill('SIGKILL');
      procs[name] = await restart(name);
    }
    // 20 more acknowledged after the last restart, then publishing stops (at 300 at the earliest).
    const afterLast = acked.size;
    await eventually(() => Promise.resolve(acked.size >= afterLast + 20 || acked.size >= 2000), 60_000, 50);
    killsDone = true;
    await publisher;
    stop = true;
    expect(acked.size).toBe(published);
    expect(acked.size).toBeGreaterThanOrEqual(300);

    const ids = new Set(acked.values());
    const seen = new Map<string, number>();
    const count = () => {
      seen.clear();
      for (const r of rcv.received) seen.set(String(r.headers['webhook-id']), (seen.get(String(r.headers['webhook-id'])) ?? 0) + 1);
      return [...ids].filter((id) => !seen.has(id));
    };
    try {
      // Usually all arrive within seconds of the last restart; a worker whose pollers backed off while the Temporal
      // server was down can take minutes to poll again (late, never lost), hence the long wait.
      await eventually(() => Promise.resolve(count().length === 0), 300_000, 500);
    } catch (err) {
      // Say which acknowledged events did not arrive, and what the log says of them.
      const missing = count();
      const states = [];
      for (const id of missing.slice(0, 10)) states.push((await setup.get(`/v1/events/${id}`)).body);
      console.error(`chaos-all: ${missing.length} acknowledged events not received:`, JSON.stringify(states.map((e) => ({ id: e.id, created_at: e.created_at, deliveries: e.deliveries?.map((d: any) => ({ id: d.id, status: d.status, attempt: d.attempt, workflow: d.workflow_id })) }))));
      throw err;
    }
    for (const r of rcv.received) expect(JSON.parse(r.body).id).toBe(r.headers['webhook-id']);
    expect([...seen.keys()].every((id) => ids.has(id))).toBe(true);

    // The log: every delivery delivered, and its attempts' sends cover every request the receiver got.
    const deliveries: any[] = [];
    for (let page = 1; ; page++) {
      const res = await setup.get(`/v1/webhooks/${wh.body.id}/deliveries?per_page=100&page=${page}`);
      deliveries.push(...res.body.data);
      if (!res.body.pagination.has_more) break;
    }
    expect(deliveries).toHaveLength(acked.size);
    let logged = 0;
    for (const d of deliveries) {
      const full = await eventually(async () => {
        const x = (await setup.get(`/v1/deliveries/${d.id}`)).body;
        return x.status === 'delivered' && x.attempts.every((a: any) => !a.in_flight) && x;
      }, 60_000, 200);
      const sends = full.attempts.reduce((a: number, x: any) => a + x.sends, 0);
      expect(sends, `delivery ${d.id}`).toBeGreaterThanOrEqual(seen.get(d.event_id)!);
      logged += sends;
    }
    console.log(`chaos-all: ${acked.size} events acknowledged, ${rcv.received.length} requests received, ${logged} sends logged`);
  }, 480_000);
});
