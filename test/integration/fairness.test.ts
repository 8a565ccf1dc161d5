import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { eventually, newOrg, quietFor, type Client } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

// Fairness between applications (issue 22): one customer's dead endpoints must not delay everyone else's
// webhooks. Application A has many webhooks on a "black hole" (accepts the connection, reads the request, never
// answers) and enough events to put several hundred attempts in flight at once — more than the worker's shared
// slots (WORKER_MAX_CONCURRENT_WORKFLOW_TASKS 100, WORKER_MAX_CONCURRENT_ACTIVITIES 200). While they hang,
// application B's healthy endpoint, and a healthy endpoint of A itself, must still receive each event within 5 s
// of its publish, and A's hanging deliveries are kept (pending). Before fairness (3752859) an attempt held a
// workflow task slot for its whole timeout: ~90 of A's attempts hung at once, the rest queued ahead of B, and
// B's events arrived ~17–29 s after their publish (0 of 15 within 5 s).
const SLOW_WEBHOOKS = 50; // A's webhooks on the black hole
const SLOW_EVENTS = Number(process.env.FAIRNESS_SLOW_EVENTS ?? 6); // events published to all of them: 300 hanging deliveries, 3× the workflow task slots
const SLOW_TIMEOUT_MS = 10_000;
const BLACK_HOLE_PORTS = SLOW_WEBHOOKS; // one origin each: the sender pools at most 32 connections per origin
const HEALTHY_EVENTS = 15; // each for B's endpoint and for A's own healthy one
const PUBLISH_EVERY_MS = 200; // 5/s
const DEADLINE_MS = 5_000;
const WAIT_FOR_HEALTHY_MS = 40_000; // how long the test waits for late arrivals, to measure them (then fails)

type BlackHole = { urls: string[]; inFlight(): number; seen(): number; close(): Promise<void> };

/** HTTP servers on loopback that take every request and never answer it; close() drops every socket. */
async function startBlackHole(ports: number): Promise<BlackHole> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const open = new Set<ServerResponse>();
  let seen = 0;
  const swallow = (req: IncomingMessage, res: ServerResponse) => {
    seen++;
    open.add(res);
    req.resume();
    res.on('close', () => open.delete(res));
  };
  const urls: string[] = [];
  for (let i = 0; i < ports; i++) {
    const s = createServer(swallow);
    // Node's own request/header timeouts must not answer for the black hole.
    s.requestTimeout = 0;
    s.headersTimeout = 0;
    s.on('connection', (sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    servers.push(s);
    urls.push(`http://127.0.0.1:${(s.address() as { port: number }).port}`);
  }
  return {
    urls,
    inFlight: () => open.size,
    seen: () => seen,
    async close() {
      for (const sock of sockets) sock.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((ok) => { s.closeAllConnections(); s.close(() => ok()); })));
    },
  };
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

let admin: Client;
let publisher: Client;
let hole: BlackHole;
let healthyB: Receiver;
let healthyA: Receiver;
let appA: { id: string };
let appB: { id: string };
const slowWebhooks: string[] = [];
const tag = Date.now().toString(36);
const T = { slow: `fair.slow`, okA: `fair.a.ok`, okB: `fair.b.ok` };

beforeAll(async () => {
  ({ admin, publisher } = await newOrg('fairness'));
  hole = await startBlackHole(BLACK_HOLE_PORTS);
  healthyA = await startReceiver();
  healthyB = await startReceiver();
  for (const name of Object.values(T)) expect((await admin.post('/v1/event-types', { name })).status).toBe(201);
  appA = (await admin.put(`/v1/applications/uid/fair-a-${tag}`, { name: 'A (dead endpoints)' })).body;
  appB = (await admin.put(`/v1/applications/uid/fair-b-${tag}`, { name: 'B (healthy)' })).body;
  expect(appA.id).toMatch(/^app_/);
  expect(appB.id).toMatch(/^app_/);
});

afterAll(async () => {
  // Whatever happened, A's webhooks go (their deliveries end cancelled), so the rest of the suite is not burdened.
  for (const id of slowWebhooks) await admin?.del(`/v1/webhooks/${id}`).catch(() => {});
  await hole?.close();
  await healthyA?.close();
  await healthyB?.close();
});

describe('fairness between applications (issue 22)', () => {
  it("one application's hanging endpoints do not delay another application's, nor its own healthy endpoint", async () => {
    // A: SLOW_WEBHOOKS webhooks on the black hole (default retry schedule), and one healthy webhook of its own.
    for (let i = 0; i < SLOW_WEBHOOKS; i += 10) {
      const made = await Promise.all(
        Array.from({ length: Math.min(10, SLOW_WEBHOOKS - i) }, (_, j) =>
          admin.post(`/v1/applications/${appA.id}/webhooks`, { url: `${hole.urls[(i + j) % hole.urls.length]}/slow/${i + j}`, events: [T.slow], timeout_ms: SLOW_TIMEOUT_MS }),
        ),
      );
      for (const r of made) {
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        slowWebhooks.push(r.body.id);
      }
    }
    const okA = await admin.post(`/v1/applications/${appA.id}/webhooks`, { url: healthyA.url, events: [T.okA] });
    expect(okA.status, JSON.stringify(okA.body)).toBe(201);
    const okB = await admin.post(`/v1/applications/${appB.id}/webhooks`, { url: healthyB.url, events: [T.okB] });
    expect(okB.status, JSON.stringify(okB.body)).toBe(201);

    // A's flood: SLOW_EVENTS × SLOW_WEBHOOKS deliveries, in one batch.
    const batch = await publisher.post('/v1/events/batch', {
      events: Array.from({ length: SLOW_EVENTS }, (_, n) => ({ application: appA.id, type: T.slow, data: { n } })),
    });
    expect(batch.status, JSON.stringify(batch.body)).toBe(202);
    const slowEvents = (batch.body.data as { id: string; deliveries: number }[]).map((e) => e.id);
    expect((batch.body.data as { deliveries: number }[]).every((e) => e.deliveries === SLOW_WEBHOOKS)).toBe(true);

    // Wait until A's attempts hang at the black hole, and until their number stops growing (however many in flight
    // the engine allows A: this must not assume today's slot count).
    await eventually(async () => hole.inFlight() >= 10, 30_000);
    let last = -1;
    await eventually(async () => {
      const now = hole.inFlight();
      const stable = now === last;
      last = now;
      return stable;
    }, 10_000, 1000).catch(() => {});
    const hangingAtStart = hole.inFlight();

    // B's events and A's own healthy events, 5/s each, while A's attempts hang.
    const published = new Map<string, { at: number; who: 'A' | 'B' }>();
    const publishes: Promise<void>[] = [];
    for (let n = 0; n < HEALTHY_EVENTS; n++) {
      for (const [who, type, app] of [['B', T.okB, appB.id], ['A', T.okA, appA.id]] as const) {
        publishes.push(
          publisher.post('/v1/events', { application: app, type, data: { n } }).then((r) => {
            expect(r.status, JSON.stringify(r.body)).toBe(202);
            expect(r.body.deliveries).toBe(1);
            published.set(r.body.id, { at: Date.now(), who });
          }),
        );
      }
      await new Promise((r) => setTimeout(r, PUBLISH_EVERY_MS)); // pacing, not waiting for anything
    }
    await Promise.all(publishes);

    // Every healthy event arrives: wait for late ones (up to WAIT_FOR_HEALTHY_MS), to measure how late.
    await Promise.allSettled([healthyA.waitFor(HEALTHY_EVENTS, WAIT_FOR_HEALTHY_MS), healthyB.waitFor(HEALTHY_EVENTS, WAIT_FOR_HEALTHY_MS)]);
    const latencies = (who: 'A' | 'B', rcv: Receiver) => {
      const arrived = new Map<string, number>();
      for (const r of rcv.received) {
        const id = String(r.headers['webhook-id']);
        if (!arrived.has(id)) arrived.set(id, r.at);
      }
      const ours = [...published].filter(([, p]) => p.who === who);
      const ms = ours.filter(([id]) => arrived.has(id)).map(([id, p]) => arrived.get(id)! - p.at);
      return {
        published: ours.length,
        arrived: ms.length,
        within5s: ms.filter((x) => x <= DEADLINE_MS).length,
        p50: pct(ms, 50),
        max: ms.length ? Math.max(...ms) : NaN,
        ms,
      };
    };
    const b = latencies('B', healthyB);
    const a = latencies('A', healthyA);
    const summary = {
      hanging_at_start: hangingAtStart,
      black_hole_requests_seen: hole.seen(),
      B: { published: b.published, arrived: b.arrived, within_5s: b.within5s, p50_ms: b.p50, max_ms: b.max },
      A_healthy: { published: a.published, arrived: a.arrived, within_5s: a.within5s, p50_ms: a.p50, max_ms: a.max },
    };
    console.log(`fairness: ${JSON.stringify(summary)}`);
    console.log(`fairness: B latencies (ms, publish order): ${JSON.stringify(b.ms)}`);
    console.log(`fairness: A healthy latencies (ms, publish order): ${JSON.stringify(a.ms)}`);

    // A's hanging deliveries are kept, none lost: each event has one delivery per slow webhook, pending (or failed).
    const slowSet = new Set(slowWebhooks);
    for (const id of slowEvents) {
      const ev = await admin.get(`/v1/events/${id}`);
      expect(ev.status).toBe(200);
      const ds = ev.body.deliveries as { webhook_id: string; status: string }[];
      expect(ds).toHaveLength(SLOW_WEBHOOKS);
      expect(new Set(ds.map((d) => d.webhook_id))).toEqual(slowSet);
      for (const d of ds) expect(['pending', 'failed']).toContain(d.status);
    }

    expect(summary.B, 'every event of B arrives within 5 s of its publish').toMatchObject({ arrived: HEALTHY_EVENTS, within_5s: HEALTHY_EVENTS });
    expect(summary.A_healthy, "every event of A's healthy webhook arrives within 5 s of its publish").toMatchObject({ arrived: HEALTHY_EVENTS, within_5s: HEALTHY_EVENTS });
  }, 80_000);

  it("deleting A's webhooks cancels its hanging deliveries", async () => {
    expect(slowWebhooks).toHaveLength(SLOW_WEBHOOKS);
    for (let i = 0; i < slowWebhooks.length; i += 10) {
      const res = await Promise.all(slowWebhooks.slice(i, i + 10).map((id) => admin.del(`/v1/webhooks/${id}`)));
      for (const r of res) expect([200, 204]).toContain(r.status);
    }
    const deleted = slowWebhooks.splice(0);
    // The records say cancelled at once; the workflows end (an attempt in flight ends at its timeout at the latest).
    const total = SLOW_WEBHOOKS * SLOW_EVENTS;
    await eventually(async () => {
      const all = (await admin.get(`/v1/applications/${appA.id}/deliveries?event_type=${T.slow}&per_page=1`)).body.pagination.total;
      const cancelled = (await admin.get(`/v1/applications/${appA.id}/deliveries?event_type=${T.slow}&status=cancelled&per_page=1`)).body.pagination.total;
      return all === total && cancelled === total;
      // An attempt in flight ends at its timeout, and its workflow then records the cancel: allow for a busy machine.
    }, SLOW_TIMEOUT_MS + 30_000, 500);
    for (const id of deleted) expect((await admin.get(`/v1/webhooks/${id}`)).status).toBe(404);
    // Nothing more goes to the black hole once the attempts in flight have timed out.
    await eventually(async () => hole.inFlight() === 0, SLOW_TIMEOUT_MS + 10_000, 250);
    const seen = hole.seen();
    await quietFor(1500);
    expect(hole.seen()).toBe(seen);
  }, 90_000);
});
