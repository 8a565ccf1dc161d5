// The noisy-neighbour scenario (issue 22, "What must show"): does one application's bad endpoints slow down another
// application's healthy one? On one stack, in one run:
//
//   baseline  application B: one fast endpoint, BENCH_SCALE × 100 events at 5/s; beside it application A's own fast
//             endpoint, as many events at 5/s (interleaved). Latency = receiver arrival − the publish request sent.
//   hanging   A: 50 × scale endpoints that accept the connection and never answer (each its own server and port,
//             the default timeout and retry schedule) × 200 × scale events, published in batches as fast as the API
//             takes them; B (and A's fast endpoint) measured (a) right after A's publish, while A's first attempts
//             are in flight, and (b) when A's first retries come due (first hanging request + timeout + the
//             schedule's first delay).
//   slow      A: 50 × scale endpoints answering 200 after 5 s × 200 × scale events; B measured once.
//   failfast  A: 500 × scale endpoints answering 500 at once × 20 × scale events; B measured once.
//
// Between variants A's noisy webhooks are deleted (their open deliveries end cancelled) and the stack settles: no
// workflow of them running any more (Temporal's visibility), none of their requests open, B's backlog delivered.
// For every round: B's and A's fast endpoint's p50/p95/max, received, received within 10 s, and the goal (p95 ≤
// 2 × its baseline p95 + 50 ms, all within 10 s). Per variant: A's deliveries sampled in MongoDB (attempt ≥ 1, ≥ 2,
// by status, none missing, pending ones against running workflows), the worker's CPU, RSS and /metrics gauges
// every second, at the peak of A's requests in flight, and how long deleting and settling took.
//
//   BENCH_NOISY_VARIANTS=hanging,slow,failfast   which variants after the baseline (default: all three)
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { parseDuration } from '../src/domain/durations.js';
import { payload, type Api } from './lib/api.js';
import type { Receiver, ReceiverOpts, ReceiverSet } from './lib/receivers.js';
import { readProc, type ProcUsage, type Sampler } from './lib/procstat.js';
import { percentiles, round, sleep, type Percentiles } from './lib/stats.js';
import type { BenchStack } from './lib/stack.js';

export type NoisyRow = {
  scenario: 'noisy';
  variant: string;
  events: number;
  deliveriesExpected: number;
  delivered: number;
  deliveriesPerS: number;
  latencyMs: Percentiles | null;
  cpuMsPerDelivery: number;
  wallS: number;
  procs: Record<string, ProcUsage>;
  extra: Record<string, unknown>;
  notes: string[];
};

export type NoisyCtx = {
  api: Api;
  stack: BenchStack;
  sampler: Sampler;
  scale: number;
  alive(): boolean;
  log(msg: string): void;
  receiverSet(): Promise<ReceiverSet>;
  closeReceivers(set: ReceiverSet): Promise<void>;
  /** A row is pushed as soon as its round is measured (partial results survive a failure); extra may grow later. */
  push(row: NoisyRow): void;
};

type Kind = 'hanging' | 'slow' | 'failfast';
const KINDS: Kind[] = ['hanging', 'slow', 'failfast'];
/** Events/s of B and of A's fast endpoint (each). */
const RATE = 5;
/** After the last publish of a round, wait at most this long for the rest to arrive. */
const ROUND_WAIT_MS = 30_000;
const WITHIN_MS = 10_000;
const SLOW_MS = 5000;
/** Deliveries per batch request of A's flood (events per batch = this ÷ endpoints), and batch requests in flight. */
const FLOOD_DELIVERIES_PER_REQUEST = 2500;
const FLOOD_IN_FLIGHT = 4;
const TYPE_B = 'bench.noisy.b';
const TYPE_A_OK = 'bench.noisy.a.ok';
const TYPE_FLOOD = 'bench.noisy.a.flood';
/** Worker gauges read every second: slots, open deliveries, the fairness gate (in flight, waiting, reserved, limited and slow endpoints), detached and waited attempts. */
const GAUGES = ['hookrelay_worker_slots_in_use', 'hookrelay_deliveries_open', 'hookrelay_fairness', 'hookrelay_attempts_detached_total', 'hookrelay_attempts_waited_total'];

type Published = Map<string, { sent: number; answered: number }>;
type Flow = { name: string; app: string; type: string; rcv: Receiver; offered: number; published: Published; errors: number; errorSamples: string[]; responseMs: number[] };

type FlowStats = {
  offered: number;
  accepted: number;
  publishErrors: number;
  received: number;
  within10s: number;
  /** of the received ones, from the publish request sent */
  latencyMs: Percentiles | null;
  /** the same from the 202 */
  latencyFrom202Ms: Percentiles | null;
  /** nearest-rank p95 over every offered event, one not received counting as infinitely late (null then) */
  p95AllMs: number | null;
  publishResponseMs: Percentiles | null;
  errorSamples: string[];
};

type Goal = { baselineP95Ms: number | null; p95LimitMs: number | null; p95Ok: boolean; allWithin10s: boolean; met: boolean };

type Sample = { t: number; inFlight: number; requests: number; cpuPct: number | null; rssMb: number | null; gauges: Record<string, number> };

export async function noisy(ctx: NoisyCtx): Promise<void> {
  const { api, stack, log } = ctx;
  const sc = (x: number, min: number) => Math.max(min, Math.round(x * ctx.scale));
  const n = sc(100, 20);
  const kinds = (process.env.BENCH_NOISY_VARIANTS ?? KINDS.join(',')).split(',').map((s) => s.trim()).filter((s): s is Kind => (KINDS as string[]).includes(s));
  const specs: Record<Kind, { endpoints: number; events: number; what: string; opts: ReceiverOpts }> = {
    hanging: { endpoints: sc(50, 2), events: sc(200, 5), what: 'hanging (accept, never answer)', opts: { hang: true } },
    slow: { endpoints: sc(50, 2), events: sc(200, 5), what: `answering 200 after ${SLOW_MS / 1000} s`, opts: { delayMs: SLOW_MS } },
    failfast: { endpoints: sc(500, 10), events: sc(20, 2), what: 'answering 500 at once', opts: { failing: () => true } },
  };

  for (const t of [TYPE_B, TYPE_A_OK, TYPE_FLOOD]) await api.eventType(t);
  const suffix = Date.now().toString(36);
  const appA = (await api.must<{ id: string }>('POST', '/v1/applications', { name: 'bench noisy A (the noisy one)', uid: `bench-noisy-a-${suffix}` }, [201])).id;
  const appB = (await api.must<{ id: string }>('POST', '/v1/applications', { name: 'bench noisy B (the quiet one)', uid: `bench-noisy-b-${suffix}` }, [201])).id;
  const quiet = await ctx.receiverSet();
  const [rcvB, rcvA] = [(await quiet.add(1, 'noisy-b'))[0], (await quiet.add(1, 'noisy-a-ok'))[0]];
  await api.must('POST', '/v1/webhooks', { url: rcvB.url, events: [TYPE_B], application: appB }, [201]);
  await api.must('POST', '/v1/webhooks', { url: rcvA.url, events: [TYPE_A_OK], application: appA }, [201]);

  const mongo = await MongoClient.connect(stack.env.MONGODB_URL, { maxPoolSize: 2, serverSelectionTimeoutMS: 10_000 });
  const db = mongo.db(stack.env.MONGODB_DB);
  let temporal: { client: Client; connection: Connection } | null = null;
  try {
    const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
    temporal = { connection, client: new Client({ connection, namespace: stack.env.TEMPORAL_NAMESPACE ?? 'default' }) };
  } catch (err) {
    log(`noisy: no Temporal client (${(err as Error).message}); running workflows are not counted`);
  }
  const flows: Flow[] = [];
  const workerProc = stack.procs.find((p) => /^(hookrelay|worker)(-|$)/.test(p.name));

  /** Running delivery workflows of these webhooks (Temporal's visibility), null when it cannot be asked. */
  async function running(webhookIds: string[]): Promise<number | null> {
    if (!temporal) return null;
    try {
      let total = 0;
      for (let i = 0; i < webhookIds.length; i += 100) {
        const ids = webhookIds.slice(i, i + 100).map((id) => `'${id}'`).join(', ');
        const q = `WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Running' AND HookrelayWebhookId IN (${ids})`;
        total += (await withTimeout(temporal.client.workflow.count(q), 20_000)).count;
      }
      return total;
    } catch (err) {
      log(`noisy: counting running workflows failed: ${(err as Error).message}`);
      return null;
    }
  }

  /** A's noisy deliveries as MongoDB has them now (one scan), and the pending ones against running workflows. */
  async function snapshot(label: string, t0: number, webhookIds: string[], expected: number, withWorkflows: boolean) {
    const a = performance.now();
    try {
      const docs = await withTimeout(
        db.collection('deliveries').find({ webhook_id: { $in: webhookIds } }, { projection: { status: 1, attempt: 1, next_attempt_at: 1, waiting: 1, held: 1 } }).toArray(),
        120_000,
      );
      const byStatus: Record<string, number> = {};
      const waiting: Record<string, number> = {};
      let [ge1, ge2, maxAttempt, pending0, pending] = [0, 0, 0, 0, 0];
      const now = Date.now();
      const due: number[] = [];
      for (const d of docs) {
        byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
        if (d.attempt >= 1) ge1++;
        if (d.attempt >= 2) ge2++;
        maxAttempt = Math.max(maxAttempt, d.attempt ?? 0);
        if (d.status === 'pending' && !d.held) {
          pending++;
          if (!d.attempt) pending0++;
        }
        if (d.waiting?.reason) waiting[d.waiting.reason] = (waiting[d.waiting.reason] ?? 0) + 1;
        if (d.next_attempt_at) due.push((new Date(d.next_attempt_at).getTime() - now) / 1000);
      }
      const outbox = await withTimeout(db.collection('fanout_outbox').countDocuments({}), 30_000).catch(() => null);
      const runningWorkflows = withWorkflows ? await running(webhookIds) : undefined;
      const dueSorted = due.sort((x, y) => x - y);
      return {
        label,
        atS: round((a - t0) / 1000, 1),
        expected,
        total: docs.length,
        missing: expected - docs.length,
        byStatus,
        attemptGe1: ge1,
        attemptGe2: ge2,
        maxAttempt,
        pending,
        pendingAttempt0: pending0,
        waitingByReason: waiting,
        nextAttemptInS: dueSorted.length ? { n: dueSorted.length, min: round(dueSorted[0]), median: round(dueSorted[Math.floor(dueSorted.length / 2)]), max: round(dueSorted[dueSorted.length - 1]) } : null,
        outboxEntries: outbox,
        ...(withWorkflows ? { runningWorkflows, pendingWithoutRunningWorkflow: runningWorkflows === null || runningWorkflows === undefined ? null : Math.max(0, pending - runningWorkflows) } : {}),
        // Every delivery is there and is pending or failed (or delivered, for the slow endpoints): none lost.
        noneLost: docs.length === expected && docs.every((d) => ['pending', 'failed', 'delivered', 'paused'].includes(d.status)),
        scanMs: Math.round(performance.now() - a),
      };
    } catch (err) {
      return { label, atS: round((a - t0) / 1000, 1), error: (err as Error).message };
    }
  }

  /** Every second: A's requests open at its receivers, the worker's CPU and RSS, its gauges. */
  function monitor(noisySet: ReceiverSet | null) {
    const samples: Sample[] = [];
    const t0 = performance.now();
    let stopped = false;
    let last = workerProc ? { at: performance.now(), cpu: readProc(workerProc.pid)?.cpuMs ?? 0 } : null;
    const present = new Set<string>();
    const loop = (async () => {
      while (!stopped && samples.length < 3600) {
        const tick = performance.now();
        let cpuPct: number | null = null;
        let rssMb: number | null = null;
        if (workerProc && last) {
          const s = readProc(workerProc.pid);
          if (s) {
            const now = performance.now();
            cpuPct = round(((s.cpuMs - last.cpu) / Math.max(1, now - last.at)) * 100, 1);
            rssMb = round(s.rssMb, 0);
            last = { at: now, cpu: s.cpuMs };
          }
        }
        const gauges = await readGauges(stack.workerMetricsUrls);
        for (const k of Object.keys(gauges)) present.add(k.replace(/\{.*$/, ''));
        samples.push({ t: round((tick - t0) / 1000, 1), inFlight: noisySet?.inFlight ?? 0, requests: noisySet?.requests ?? 0, cpuPct, rssMb, gauges });
        await sleep(Math.max(0, 1000 - (performance.now() - tick)));
      }
    })();
    return {
      t0,
      samples,
      /** Samples between two performance.now() instants. */
      between: (a: number, b: number) => samples.filter((s) => s.t >= (a - t0) / 1000 && s.t <= (b - t0) / 1000),
      async stop() {
        stopped = true;
        await loop;
        return { present: GAUGES.filter((g) => present.has(g)) };
      },
    };
  }

  function timelineOf(samples: Sample[]) {
    const keys = [...new Set(samples.flatMap((s) => Object.keys(s.gauges)))].slice(0, 24);
    return {
      t: samples.map((s) => s.t),
      aInFlight: samples.map((s) => s.inFlight),
      aRequests: samples.map((s) => s.requests),
      workerCpuPct: samples.map((s) => s.cpuPct),
      workerRssMb: samples.map((s) => s.rssMb),
      gauges: Object.fromEntries(keys.map((k) => [k, samples.map((s) => s.gauges[k] ?? null)])),
    };
  }

  async function publish(f: Flow, i: number) {
    f.offered++;
    const sent = performance.now();
    try {
      const r = await api.call<{ id: string }>('POST', '/v1/events', { application: f.app, type: f.type, data: payload(`noisy-${f.name}`, i) }, 30_000);
      const answered = performance.now();
      if (r.status !== 202) throw new Error(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      f.responseMs.push(answered - sent);
      f.published.set(r.body.id, { sent, answered });
    } catch (err) {
      f.errors++;
      if (f.errorSamples.length < 5) f.errorSamples.push((err as Error).message);
    }
  }

  const allReceived = () => flows.every((f) => [...f.published.keys()].every((id) => f.rcv.delivered.has(id)));

  function stats(f: Flow): FlowStats {
    const lat: number[] = [];
    const lat202: number[] = [];
    let within = 0;
    for (const [id, p] of f.published) {
      const at = f.rcv.delivered.get(id);
      if (at === undefined) continue;
      lat.push(at - p.sent);
      lat202.push(at - p.answered);
      if (at - p.sent <= WITHIN_MS) within++;
    }
    const all = [...lat].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil(0.95 * f.offered));
    return {
      offered: f.offered,
      accepted: f.published.size,
      publishErrors: f.errors,
      received: lat.length,
      within10s: within,
      latencyMs: percentiles(lat),
      latencyFrom202Ms: percentiles(lat202),
      p95AllMs: rank <= all.length ? round(all[rank - 1], 1) : null,
      publishResponseMs: percentiles(f.responseMs),
      errorSamples: f.errorSamples,
    };
  }

  function goal(s: FlowStats, baseline: FlowStats | null): Goal {
    const base = baseline?.p95AllMs ?? null;
    const limit = base === null ? null : round(2 * base + 50, 1);
    const p95Ok = limit !== null && s.p95AllMs !== null && s.p95AllMs <= limit;
    const allWithin10s = s.offered > 0 && s.within10s === s.offered;
    return { baselineP95Ms: base, p95LimitMs: limit, p95Ok, allWithin10s, met: p95Ok && allWithin10s };
  }

  /** One round: B and A's fast endpoint, n events each at RATE/s (interleaved), then their arrivals. */
  async function measure(label: string) {
    const fB: Flow = { name: 'b', app: appB, type: TYPE_B, rcv: rcvB, offered: 0, published: new Map(), errors: 0, errorSamples: [], responseMs: [] };
    const fA: Flow = { name: 'a-ok', app: appA, type: TYPE_A_OK, rcv: rcvA, offered: 0, published: new Map(), errors: 0, errorSamples: [], responseMs: [] };
    flows.push(fB, fA);
    const window = ctx.sampler.begin();
    const t0 = performance.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < n && ctx.alive(); i++) {
      for (const [f, offset] of [[fB, 0], [fA, 500 / RATE]] as const) {
        const wait = t0 + (i * 1000) / RATE + offset - performance.now();
        if (wait > 1) await sleep(wait);
        pending.push(publish(f, i));
      }
    }
    await Promise.race([Promise.allSettled(pending), sleep(35_000)]);
    const lastSent = performance.now();
    await until(() => allReceived(), ROUND_WAIT_MS, ctx.alive);
    const end = performance.now();
    const w = window();
    const [b, a] = [stats(fB), stats(fA)];
    log(`noisy/${label}: B ${b.received}/${b.offered} (${b.within10s} within 10 s), p50/p95/max ${fmtP(b.latencyMs)} ms; A's fast endpoint ${a.received}/${a.offered} (${a.within10s}), ${fmtP(a.latencyMs)} ms`);
    return { fB, fA, b, a, t0, lastSent, end, w };
  }

  function row(variant: string, r: Awaited<ReturnType<typeof measure>>, extra: Record<string, unknown>, notes: string[] = []): NoisyRow {
    const times = [...r.fB.published.keys()].map((id) => r.fB.rcv.delivered.get(id)).filter((x): x is number => x !== undefined);
    const lastArrival = times.length ? Math.max(...times) : r.t0;
    return {
      scenario: 'noisy',
      variant,
      events: r.b.offered,
      deliveriesExpected: r.b.offered,
      delivered: r.b.received,
      deliveriesPerS: round(r.b.received / Math.max(0.001, (lastArrival - r.t0) / 1000), 1),
      latencyMs: r.b.latencyMs,
      cpuMsPerDelivery: 0,
      wallS: round(r.w.wallMs / 1000),
      procs: r.w.procs,
      extra,
      notes: [`B = application B's healthy endpoint (the row's latency); A-ok = application A's own healthy endpoint; both ${RATE} events/s`, ...notes],
    };
  }

  /** After A's webhooks are deleted: none of their workflows running, no request of theirs open, B's backlog delivered. */
  async function settleAfter(set: ReceiverSet, hookIds: string[], capMs: number) {
    const t0 = performance.now();
    const requestsAtDelete = set.requests;
    let lastRequests = set.requests;
    let quietSince = performance.now();
    let runningNow: number | null = null;
    let reason = 'cap';
    while (ctx.alive() && performance.now() - t0 < capMs) {
      if (set.requests !== lastRequests) {
        lastRequests = set.requests;
        quietSince = performance.now();
      }
      runningNow = await running(hookIds);
      const quietMs = performance.now() - quietSince;
      const drained = allReceived() && set.inFlight === 0 && quietMs >= 3000;
      if (drained && runningNow === 0) {
        reason = 'no workflow of A\'s deleted webhooks running, none of their requests open, B delivered';
        break;
      }
      if (drained && runningNow === null && quietMs >= 10_000) {
        reason = 'quiet for 10 s (running workflows not countable)';
        break;
      }
      await sleep(1000);
    }
    return { reason, runningAtEnd: runningNow, aRequestsAfterDelete: set.requests - requestsAtDelete, aInFlightAtEnd: set.inFlight, allQuietDelivered: allReceived() };
  }

  try {
    // ------------------------------------------------------------------------------------------------- baseline
    log(`noisy: baseline, B and A's fast endpoint ${n} events each at ${RATE}/s`);
    let mon = monitor(null);
    const base = await measure('baseline');
    const baseWorker = summarize(mon.between(base.t0, base.end));
    const basePresent = await mon.stop();
    const baseGoals = { b: goal(base.b, base.b), aHealthy: goal(base.a, base.a) };
    const baseRow = row('baseline: B alone (beside A\'s fast endpoint only)', base, {
      noisyVariant: 'baseline', round: 'baseline', b: base.b, aHealthy: base.a, goals: baseGoals, worker: baseWorker, gaugesPresent: basePresent.present,
      rate: RATE, withinMs: WITHIN_MS,
    });
    ctx.push(baseRow);

    // ------------------------------------------------------------------------------------------------- variants
    for (const kind of kinds) {
      if (!ctx.alive()) break;
      const spec = specs[kind];
      const expected = spec.endpoints * spec.events;
      const set = await ctx.receiverSet();
      const firstArrivals: number[] = [];
      const retryArrivals: number[] = [];
      try {
        const rcvs = await set.add(spec.endpoints, `noisy-${kind}-`, () => ({ ...spec.opts, onRequest: (_id, at, repeat) => (repeat ? retryArrivals : firstArrivals).push(at) }));
        type Hook = { id: string; timeout_ms: number; retry_schedule: string[] };
        const hooks: Hook[] = [];
        await eachLimit(rcvs, 8, async (r) => {
          hooks.push(await api.must<Hook>('POST', '/v1/webhooks', { url: r.url, events: [TYPE_FLOOD], application: appA }, [201]));
        });
        const hookIds = hooks.map((h) => h.id);
        log(`noisy/${kind}: A has ${spec.endpoints} endpoints ${spec.what} × ${spec.events} events = ${expected} deliveries (timeout ${hooks[0].timeout_ms} ms, schedule ${hooks[0].retry_schedule.join(',')})`);
        mon = monitor(set);
        // A's flood: batches as fast as the API takes them.
        const perBatch = Math.max(1, Math.min(500, Math.floor(FLOOD_DELIVERIES_PER_REQUEST / spec.endpoints)));
        const batches = Math.ceil(spec.events / perBatch);
        const flood = { accepted: 0, requests: 0, errors: 0, errorSamples: [] as string[], responseMs: [] as number[], seconds: 0 };
        const tPub = performance.now();
        await eachLimit(Array.from({ length: batches }, (_, b) => b), FLOOD_IN_FLIGHT, async (b) => {
          const count = Math.min(perBatch, spec.events - b * perBatch);
          const events = Array.from({ length: count }, (_, k) => ({ application: appA, type: TYPE_FLOOD, data: payload(`noisy-${kind}`, b * perBatch + k) }));
          const a = performance.now();
          flood.requests++;
          try {
            const r = await api.call<{ data: { id: string }[] }>('POST', '/v1/events/batch', { events }, 180_000);
            if (r.status !== 202) throw new Error(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
            flood.accepted += r.body.data.length;
            flood.responseMs.push(performance.now() - a);
          } catch (err) {
            flood.errors++;
            if (flood.errorSamples.length < 5) flood.errorSamples.push((err as Error).message);
          }
        });
        flood.seconds = round((performance.now() - tPub) / 1000, 2);
        const floodOut = { ...flood, responseMs: percentiles(flood.responseMs), eventsPerRequest: perBatch, inFlight: FLOOD_IN_FLIGHT, deliveries: flood.accepted * spec.endpoints };
        log(`noisy/${kind}: A published ${flood.accepted} events (${flood.accepted * spec.endpoints} deliveries) in ${flood.seconds} s, ${firstArrivals.length} of its requests arrived so far`);
        const expectedNow = flood.accepted * spec.endpoints;
        const aVariant = { behaviour: spec.what, endpoints: spec.endpoints, eventsPerEndpoint: spec.events, deliveries: expectedNow, timeoutMs: hooks[0].timeout_ms, retrySchedule: hooks[0].retry_schedule, publish: floodOut };

        // (a) right after A's publish: A's first attempts in flight.
        const ra = await measure(`${kind} (a)`);
        const snapA = await snapshot('after round a', tPub, hookIds, expectedNow, kind !== 'hanging');
        const rowsOfVariant: NoisyRow[] = [];
        const roundExtra = (r: typeof ra, roundName: string) => ({
          noisyVariant: kind,
          round: roundName,
          roundStartAfterAPublishS: round((r.t0 - tPub) / 1000, 1),
          b: r.b,
          aHealthy: r.a,
          goals: { b: goal(r.b, base.b), aHealthy: goal(r.a, base.a) },
          worker: summarize(mon.between(r.t0, r.end)),
          aRequestsDuringRound: { first: countIn(firstArrivals, r.t0, r.end), retries: countIn(retryArrivals, r.t0, r.end) },
          a: aVariant,
        });
        const labelA = `${kind}: B beside A's ${spec.endpoints} endpoints ${spec.what} × ${spec.events}, ${kind === 'hanging' ? '(a) first attempts in flight' : 'right after A\'s publish'}`;
        const measured = [ra];
        rowsOfVariant.push(row(labelA, ra, { ...roundExtra(ra, 'first-attempts'), aDeliveries: snapA }));
        ctx.push(rowsOfVariant[0]);

        // (b) hanging only: when A's first retries come due (first request + timeout + the schedule's first delay).
        if (kind === 'hanging' && ctx.alive()) {
          await until(() => firstArrivals.length > 0, 60_000, ctx.alive);
          const firstDelay = parseDuration(hooks[0].retry_schedule[0] ?? '') ?? 60_000;
          const retryAfter = hooks[0].timeout_ms + firstDelay;
          const first = firstArrivals.length ? firstArrivals.reduce((x, y) => Math.min(x, y)) : tPub;
          const dueAt = first + retryAfter;
          const waitMs = dueAt - performance.now();
          log(`noisy/${kind}: A's first retries come due ${round((dueAt - tPub) / 1000, 1)} s after its publish (first request + ${hooks[0].timeout_ms} ms timeout + ${firstDelay} ms); round (b) ${waitMs > 0 ? `in ${round(waitMs / 1000, 1)} s` : 'now (late)'}`);
          await until(() => performance.now() >= dueAt, Math.max(0, waitMs), ctx.alive, 250);
          const rb = await measure(`${kind} (b)`);
          measured.push(rb);
          // When A's retries came due, from its first attempts' arrivals: how many fell in round (b).
          const dues = firstArrivals.map((t) => t + retryAfter);
          const snapB = await snapshot('after round b', tPub, hookIds, expectedNow, false);
          // Once the first retries that came due by the round's end have had their timeout: attempt ≥ 2 shows.
          const laterAt = Math.min(rb.end, dueAt + (rb.end - rb.t0)) + hooks[0].timeout_ms + 5000;
          await until(() => performance.now() >= laterAt, Math.max(0, laterAt - performance.now()), ctx.alive, 250);
          const snapLater = await snapshot('after the first retries timed out', tPub, hookIds, expectedNow, true);
          rowsOfVariant.push(row(`${kind}: B beside A's ${spec.endpoints} endpoints ${spec.what} × ${spec.events}, (b) A's retries coming due`, rb, {
            ...roundExtra(rb, 'retries'),
            retryWave: {
              firstRequestAfterAPublishS: round((first - tPub) / 1000, 1),
              retriesDueFromAfterAPublishS: round((dueAt - tPub) / 1000, 1),
              roundLateByS: round(Math.max(0, rb.t0 - dueAt) / 1000, 1),
              retriesDueDuringRound: countIn(dues, rb.t0, rb.end),
              retriesDueBeforeRound: dues.filter((t) => t < rb.t0).length,
            },
            aDeliveries: snapB,
            aDeliveriesLater: snapLater,
          }));
          ctx.push(rowsOfVariant[1]);
        }

        // The variant as a whole (on its last row): the peak of A's requests in flight, the timeline, then settling.
        const samplesBeforeDelete = mon.samples.length;
        const tDel = performance.now();
        const deleteStatus: Record<string, number> = {};
        await eachLimit(hookIds, 4, async (id) => {
          const r = await api.call('DELETE', `/v1/webhooks/${id}`, undefined, 600_000).catch(() => ({ status: -1 }));
          deleteStatus[r.status] = (deleteStatus[r.status] ?? 0) + 1;
        });
        const deleteS = round((performance.now() - tDel) / 1000, 1);
        log(`noisy/${kind}: A's ${hookIds.length} noisy webhooks deleted in ${deleteS} s (${JSON.stringify(deleteStatus)}); settling…`);
        const settle = await settleAfter(set, hookIds, sc(600_000, 180_000));
        const settleS = round((performance.now() - tDel) / 1000, 1);
        const present = await mon.stop();
        const beforeDelete = mon.samples.slice(0, samplesBeforeDelete);
        const last = rowsOfVariant[rowsOfVariant.length - 1];
        last.extra.variant = {
          a: aVariant,
          aRequests: { first: firstArrivals.length, retries: retryArrivals.length, lastRequestAfterAPublishS: round(([...firstArrivals, ...retryArrivals].reduce((x, y) => Math.max(x, y), tPub) - tPub) / 1000, 1) },
          worker: summarize(beforeDelete),
          gaugesPresent: present.present,
          settle: { deleteS, deleteStatus, settleS, ...settle, workerDuringSettle: summarize(mon.samples.slice(samplesBeforeDelete)) },
          timeline: timelineOf(mon.samples),
        };
        // What arrived late (after the round's wait): received by the time the variant had settled.
        measured.forEach((m, i) => (rowsOfVariant[i].extra.receivedAfterSettle = { b: stats(m.fB).received, aHealthy: stats(m.fA).received }));
        for (const r of rowsOfVariant) r.notes.push(`A's noisy webhooks deleted ${deleteS} s, settled ${settleS} s after (${settle.reason})`);
        log(`noisy/${kind}: settled ${settleS} s after deleting (${settle.reason}); peak of A's requests in flight ${summarize(beforeDelete)?.peakInFlight ?? 0}`);
      } finally {
        await mon.stop();
        await ctx.closeReceivers(set);
      }
    }
  } finally {
    await ctx.closeReceivers(quiet);
    await mongo.close().catch(() => {});
    await temporal?.connection.close().catch(() => {});
  }
}

/** A compact table of the noisy rows (printed with the run's table). */
export function noisyTable(rows: { scenario: string; variant: string; extra?: Record<string, unknown> }[]): string {
  const mine = rows.filter((r) => r.scenario === 'noisy' && r.extra?.b);
  if (mine.length === 0) return '';
  const lines = [
    '| noisy | round | B p50 / p95 / max ms | B recv / within 10 s | B goal | A-ok p50 / p95 / max ms | A-ok recv / within 10 s | A-ok goal | A attempt ≥1 / ≥2 of | A requests: peak in flight, peak /s | worker at that peak: CPU %, RSS MB | settle s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of mine) {
    const x = r.extra as {
      noisyVariant: string; round: string; b: FlowStats; aHealthy: FlowStats; goals: { b: Goal; aHealthy: Goal };
      aDeliveries?: { attemptGe1?: number; attemptGe2?: number; total?: number };
      aDeliveriesLater?: { attemptGe1?: number; attemptGe2?: number; total?: number };
      worker?: WorkerSummary | null;
      variant?: { worker?: WorkerSummary | null; settle?: { settleS: number } };
    };
    const g = (goal: Goal) => `${goal.met ? 'met' : 'not met'} (p95 ${goal.p95Ok ? '≤' : '>'} ${goal.p95LimitMs ?? '–'})`;
    const w = x.worker;
    const d = x.aDeliveriesLater ?? x.aDeliveries;
    lines.push(
      `| ${x.noisyVariant} | ${x.round} | ${fmtP(x.b.latencyMs)} | ${x.b.received}/${x.b.offered} / ${x.b.within10s} | ${g(x.goals.b)} | ${fmtP(x.aHealthy.latencyMs)} | ${x.aHealthy.received}/${x.aHealthy.offered} / ${x.aHealthy.within10s} | ${g(x.goals.aHealthy)} | ${d && d.total !== undefined ? `${d.attemptGe1} / ${d.attemptGe2} of ${d.total}` : '–'} | ${w ? `${w.peakInFlight}, ${w.peakRequestsPerS}` : '–'} | ${w ? `${w.peak.workerCpuPctMean ?? '–'}, ${w.peak.workerRssMbMax ?? '–'}` : '–'} | ${x.variant?.settle?.settleS ?? '–'} |`,
    );
  }
  return lines.join('\n');
}

/** The worker over some samples, and at the peak of A's requests in flight (samples with ≥ 90 % of the peak). */
function summarize(samples: Sample[]) {
  if (samples.length === 0) return null;
  const peakInFlight = Math.max(...samples.map((s) => s.inFlight));
  // "At the peak": every sample with at least 90 % of the peak's requests in flight.
  const atPeak = samples.filter((s) => s.inFlight >= peakInFlight * 0.9);
  const cpu = (xs: Sample[]) => xs.map((s) => s.cpuPct).filter((x): x is number => x !== null);
  const rss = (xs: Sample[]) => xs.map((s) => s.rssMb).filter((x): x is number => x !== null);
  const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 1) : null);
  const maxOf = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
  const gaugeMax: Record<string, number> = {};
  for (const s of samples) for (const [k, v] of Object.entries(s.gauges)) gaugeMax[k] = Math.max(gaugeMax[k] ?? -Infinity, v);
  const first = atPeak[0];
  let peakRequestsPerS = 0;
  for (let i = 1; i < samples.length; i++) peakRequestsPerS = Math.max(peakRequestsPerS, round((samples[i].requests - samples[i - 1].requests) / Math.max(0.1, samples[i].t - samples[i - 1].t), 1));
  return {
    peakInFlight,
    peakRequestsPerS,
    peak: {
      fromS: first?.t ?? null,
      toS: atPeak[atPeak.length - 1]?.t ?? null,
      samples: atPeak.length,
      workerCpuPctMean: mean(cpu(atPeak)),
      workerCpuPctMax: maxOf(cpu(atPeak)),
      workerRssMbMax: maxOf(rss(atPeak)),
      gaugesAtFirstPeakSample: first?.gauges ?? {},
    },
    workerCpuPctMean: mean(cpu(samples)),
    workerCpuPctMax: maxOf(cpu(samples)),
    workerRssMbMax: maxOf(rss(samples)),
    gaugesMax: gaugeMax,
  };
}

type WorkerSummary = NonNullable<ReturnType<typeof summarize>>;

function fmtP(p: Percentiles | null): string {
  return p ? `${Math.round(p.p50)} / ${Math.round(p.p95)} / ${Math.round(p.max)}` : '–';
}

const countIn = (times: number[], a: number, b: number) => times.filter((t) => t >= a && t <= b).length;

async function until(cond: () => boolean, capMs: number, alive: () => boolean, pollMs = 100): Promise<boolean> {
  const end = performance.now() + capMs;
  while (alive() && performance.now() < end) {
    if (cond()) return true;
    await sleep(Math.min(pollMs, Math.max(1, end - performance.now())));
  }
  return cond();
}

async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, fail) => (t = setTimeout(() => fail(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

/** Gauges of the worker's /metrics (summed over the URLs by name and labels); {} when none can be read. */
async function readGauges(urls: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const url of urls) {
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text();
      for (const line of text.split('\n')) {
        if (!GAUGES.some((g) => line.startsWith(g))) continue;
        const sp = line.lastIndexOf(' ');
        const key = line.slice(0, sp);
        out[key] = (out[key] ?? 0) + Number(line.slice(sp + 1));
      }
    } catch {
      // the worker may be busy or gone
    }
  }
  return out;
}
