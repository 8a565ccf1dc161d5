import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, stack } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startWedgeProxy } from '../support/wedge-proxy.js';
import { openStore, isMongoUnavailable, StoreDeadlineError, type Store } from '../../src/storage/mongo.js';
// @ts-expect-error plain JS module shared with npm start
import { freePort, startApi, startFerret, startWorker } from '../../scripts/stack.js';

type Proc = { stop(): Promise<void>; kill(signal?: string): Promise<unknown>; url: string; pid: number };

/** How long a call took, and how it ended. */
async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; err?: unknown }> {
  const t0 = Date.now();
  try {
    const value = await p;
    return { ms: Date.now() - t0, value };
  } catch (err) {
    return { ms: Date.now() - t0, err };
  }
}

// Issue 23: a store that accepts connections and never answers (FerretDB with its PostgreSQL pool exhausted: the
// driver's monitor still got its `hello` answered, every other command waited for ever; here a proxy that does the
// same, test/support/wedge-proxy.ts) must not hold anything for ever.
// Every store call has a deadline; the API answers 503 (and /readyz within a second); the worker's attempts wait
// and go on by themselves when the store answers again; and stopping the processes is bounded.
describe('a store that stops answering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-deadline-'));
  const logDir = join(stack().logDir, 'store-deadline');
  const adminKey = `hrk_${randomBytes(20).toString('hex')}`;
  const DEADLINE_MS = 1500;
  let ferret: Proc;
  let api: Proc;
  let worker: Proc;
  let rcv: Receiver;
  let mongoPort: number;
  let proxy: Awaited<ReturnType<typeof startWedgeProxy>>;
  const freeze = () => proxy.wedge();
  const thaw = () => proxy?.release();

  beforeAll(async () => {
    mongoPort = await freePort();
    ferret = await startFerret({ port: mongoPort, dataDir: join(dir, 'ferretdb'), logDir });
    proxy = await startWedgeProxy({ port: mongoPort });
    const env = {
      ...stack().env,
      MONGODB_URL: proxy.url,
      ADMIN_KEY: adminKey,
      TEMPORAL_TASK_QUEUE: `deadline-${randomBytes(3).toString('hex')}`,
      STORE_DEADLINE_MS: String(DEADLINE_MS),
      STORE_BULK_DEADLINE_MS: String(DEADLINE_MS),
      FANOUT_SWEEP_INTERVAL_MS: '1000',
      FANOUT_SWEEP_AGE_MS: '1000',
      WORKER_METRICS_PORT: '-1',
    };
    [api, worker] = await Promise.all([startApi({ env, logDir }), startWorker({ env, logDir })]);
    rcv = await startReceiver();
  });
  afterAll(async () => {
    thaw();
    await Promise.all([api?.stop(), worker?.stop()]);
    await ferret?.stop();
    await proxy?.close();
    await rcv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every kind of store call fails with StoreDeadlineError within its deadline, then works again', async () => {
    const store: Store = await openStore(proxy.url, `deadline_${randomBytes(3).toString('hex')}`, undefined, {
      deadlines: { opMs: 800, bulkMs: 1200 },
    });
    try {
      await store.c.orgs.insertOne({ _id: 'org_x', name: 'x' } as never);
      freeze();
      const calls = await Promise.all([
        timed(store.c.orgs.findOne({ _id: 'org_x' } as never)),
        timed(store.c.orgs.updateOne({ _id: 'org_x' } as never, { $set: { name: 'y' } })),
        timed(store.b.findById('orgs', 'org_x' as never)),
        timed(store.b.insert('orgs', [{ _id: 'org_y', name: 'y' } as never])),
        timed(store.b.updateById('orgs', 'org_x' as never, { $set: { name: 'z' } })),
        timed(store.ping()),
      ]);
      const bulk = await timed(store.c.orgs.deleteMany({ name: 'nothing' }));
      const listed = await timed(store.c.orgs.find({ name: 'x' }).toArray());
      thaw();
      // Each ends by its deadline: StoreDeadlineError, or the pool's wait queue giving up at the same moment (a
      // call still waiting for a connection); both count as "database unavailable" (503, retried).
      for (const c of [...calls, bulk, listed]) {
        expect(c.err).toBeInstanceOf(Error);
        expect(['StoreDeadlineError', 'MongoWaitQueueTimeoutError']).toContain((c.err as Error).name);
        expect(isMongoUnavailable(c.err)).toBe(true);
      }
      expect(calls.filter((c) => c.err instanceof StoreDeadlineError).length).toBeGreaterThan(0);
      for (const c of calls) expect(c.ms).toBeLessThan(800 + 700);
      // Calls over many documents (a find's cursor, deleteMany) have the longer deadline.
      for (const c of [bulk, listed]) {
        expect(c.ms).toBeGreaterThanOrEqual(1190);
        expect(c.ms).toBeLessThan(1200 + 700);
      }
      // Answered again once the store is back (the driver may first replace connections that timed out).
      await eventually(async () => (await store.c.orgs.findOne({ _id: 'org_x' } as never).catch(() => null)) !== null, 20_000, 200);
    } finally {
      thaw();
      await store.close();
    }
  });

  it('the API answers 503 in time (readyz within a second), the worker resumes by itself, nothing is lost', async () => {
    const admin = client(adminKey, api.url);
    expect((await admin.post('/v1/event-types', { name: 'x.y' })).status).toBe(201);
    const wh = await admin.post('/v1/webhooks', { url: rcv.url, events: ['x.y'] });
    expect(wh.status).toBe(201);
    const first = await admin.post('/v1/events', { type: 'x.y', data: { n: 1 } });
    expect(first.status).toBe(202);
    await eventually(async () => rcv.received.length >= 1, 30_000);

    freeze();
    try {
      // /readyz is cached for half a second; after that it answers within its own deadline (900 ms).
      const ready = await eventually(async () => {
        const r = await timed(fetch(`${api.url}/readyz`, { signal: AbortSignal.timeout(5000) }));
        return (r.value as Response | undefined)?.status === 503 ? r : null;
      }, 5000, 100);
      expect(ready.ms).toBeLessThan(1000);

      const list = await timed(admin.get('/v1/webhooks'));
      expect(list.value?.status).toBe(503);
      expect(list.value?.body.error.code).toBe('unavailable');
      expect(list.ms).toBeLessThan(DEADLINE_MS * 2 + 1000);

      // A publish with a key: 503 (retry-safe), and the same key after recovery gives one event, delivered once.
      const pub = await timed(admin.post('/v1/events', { type: 'x.y', data: { n: 2 } }, { 'idempotency-key': 'k-frozen' }));
      expect(pub.value?.status).toBe(503);
      expect(pub.value?.headers.get('retry-after')).toBeTruthy();
      expect(pub.ms).toBeLessThan(DEADLINE_MS * 3 + 1000);
    } finally {
      thaw();
    }

    await eventually(async () => (await fetch(`${api.url}/readyz`)).status === 200, 30_000, 200);
    const again = await eventually(async () => {
      const r = await admin.post('/v1/events', { type: 'x.y', data: { n: 2 } }, { 'idempotency-key': 'k-frozen' });
      return r.status === 202 ? r : null;
    }, 30_000, 500);
    const retried = await admin.post('/v1/events', { type: 'x.y', data: { n: 2 } }, { 'idempotency-key': 'k-frozen' });
    expect(retried.body.id).toBe(again.body.id);
    await eventually(async () => rcv.received.some((r) => JSON.parse(r.body).data?.n === 2), 60_000, 200);
    const events = (await admin.get('/v1/events')).body;
    expect(events.data.filter((e: { id: string; data?: { n?: number } }) => e.data?.n === 2 || e.id === again.body.id).length).toBe(1);
  });

  it('a worker whose store stops answering mid-delivery backs off, resumes by itself, and loses nothing', async () => {
    const admin = client(adminKey, api.url);
    const before = rcv.received.length;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await admin.post('/v1/events', { type: 'x.y', data: { batch: 3, i } });
      expect(r.status).toBe(202);
      ids.push(r.body.id);
    }
    // Freeze while these deliveries are being started, attempted and recorded; hold it past several deadlines.
    freeze();
    await new Promise((r) => setTimeout(r, DEADLINE_MS * 4));
    thaw();
    await eventually(async () => rcv.received.filter((r) => JSON.parse(r.body).data?.batch === 3).length >= 5, 90_000, 250);
    const got = new Set(rcv.received.slice(before).map((r) => JSON.parse(r.body).data).filter((d) => d?.batch === 3).map((d) => d.i));
    expect(got.size).toBe(5);
    // Every delivery ends `delivered` in the log.
    await eventually(async () => {
      const ds = await Promise.all(ids.map((id) => admin.get(`/v1/events/${id}`)));
      return ds.every((d) => d.body.deliveries?.[0]?.status === 'delivered');
    }, 60_000, 500);
  });

  it('stopping the API and the worker is bounded while the store does not answer', async () => {
    freeze();
    try {
      const t0 = Date.now();
      await Promise.all([api.stop(), worker.stop()]);
      // stop() sends SIGTERM and SIGKILLs after 15 s: a bounded shutdown ends well before that.
      expect(Date.now() - t0).toBeLessThan(12_000);
    } finally {
      thaw();
    }
  });
});
