// `npm run bench`: starts a throwaway hookrelay stack (Temporal dev server, FerretDB, API, worker) on free
// loopback ports, runs the scenarios, writes bench/results/<date-time>.json and prints a markdown table.
//
//   BENCH_SCALE=0.1        scales durations and counts (1 = the full run, ~10–15 min on 2 cores)
//   BENCH_SCENARIOS=direct,floor,ingest,steady,burst,failing,fanout,list,long,noisy,hold   which scenarios (in this order)
//   BENCH_PROCESSES=split  an API-only and a worker-only process instead of the all-in-one process (npm start's)
//   BENCH_LONG_RATE=45     events/s of the long scenario (10 min × scale, with the retention schedule deleting)
//   BENCH_LIST=100,100000  webhooks and deliveries of the list scenario (GET /v1/webhooks?per_page=100)
//   BENCH_MAX_MINUTES=45   hard limit for the whole run; loops stop and the stack is stopped after it
//   BENCH_FANOUT=1,10,100  webhook counts of the fanout scenario
//   BENCH_STEADY_RATES=10,50,100  publish rates (events/s) of the steady scenario
//   BENCH_NOISY_VARIANTS=hanging,slow,failfast  noisy's variants after its baseline (bench/noisy.ts)
//   BENCH_KEEP=1           keep the temp dir (logs, SQLite files) after the run
//   BENCH_PROFILE=cluster  run on the cluster profile (scripts/cluster.js) instead of the embedded stack
//
// Every loop is bounded by count and by time; the stack is stopped at the end, on error and on SIGINT/SIGTERM.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Api, payload } from './lib/api.js';
import { ReceiverSet, type Receiver } from './lib/receivers.js';
import { readProc, Sampler, type ProcUsage } from './lib/procstat.js';
import { percentiles, perSecond, round, sleep, type Percentiles } from './lib/stats.js';
import { PROCESSES, PROFILE, startBenchStack, type BenchStack } from './lib/stack.js';
import { countOld, seedDeliveries, seedOld } from './lib/seed.js';
import { noisy, noisyTable } from './noisy.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const SCALE = Math.min(10, Math.max(0.01, Number(process.env.BENCH_SCALE ?? 1) || 1));
const ALL = ['direct', 'floor', 'ingest', 'steady', 'burst', 'failing', 'fanout', 'list', 'long', 'noisy', 'hold'] as const;
type ScenarioName = (typeof ALL)[number];
const SELECTED: ScenarioName[] = (process.env.BENCH_SCENARIOS ?? ALL.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is ScenarioName => (ALL as readonly string[]).includes(s));
const MAX_MS = Math.max(1, Number(process.env.BENCH_MAX_MINUTES ?? 45)) * 60_000;
const KEEP = process.env.BENCH_KEEP === '1';
/** Publishes in flight for the closed-loop scenarios (burst, fanout). */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** `floor` also runs the design's floor (the engine plus the least a delivery stores and sends); `false` skips it. */
const FLOOR_RECORDS = process.env.BENCH_FLOOR_RECORDS !== 'false';
/** Events/s of the failing scenario (each goes to 10 webhooks). */
const FAILING_RATE = Number(process.env.BENCH_FAILING_RATE ?? 0.5);
/** Webhook counts of the fanout scenario. */
const FANOUT = (process.env.BENCH_FANOUT ?? '1,10,100').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n <= 1000);
// The processes of the stack (set when it starts: the cluster profile runs two APIs, two workers, PostgreSQL).
let STACK_PROCS = ['api', 'worker', 'temporal', 'ferretdb'];
/** Table columns: each sums the processes whose name starts with it (api-1 + api-2, temporal-server, …). */
const CPU_GROUPS = ['hookrelay', 'api', 'worker', 'temporal', 'ferretdb', 'postgresql', 'floor', 'bench'];
/** Publish rates of the steady scenario: below capacity, and the issue's 50 and 100 events/s. */
const [LIST_WEBHOOKS, LIST_DELIVERIES] = (process.env.BENCH_LIST ?? '100,100000').split(',').map(Number);
const STEADY_RATES = (process.env.BENCH_STEADY_RATES ?? '10,50,100').split(',').map(Number).filter((n) => n > 0 && n <= 10_000);

/** Scaled count or duration, never below `min`. */
const sc = (x: number, min: number) => Math.max(min, Math.round(x * SCALE));

// ---------------------------------------------------------------------------------------------------------
// run-wide state, for cleanup from anywhere (error, SIGINT, the global deadline)
const benchStart = performance.now();
let aborted: string | null = null;
const alive = () => aborted === null && performance.now() - benchStart < MAX_MS;
let stack: BenchStack | null = null;
let api: Api | null = null;
const openReceivers = new Set<ReceiverSet>();
const children = new Set<ChildProcess>();
const sampler = new Sampler(new Map([['bench', process.pid]]));
let cleaning: Promise<void> | null = null;

function cleanup(keepData: boolean): Promise<void> {
  cleaning ??= (async () => {
    sampler.stop();
    for (const c of children) c.kill('SIGKILL');
    await Promise.allSettled([...openReceivers].map((r) => r.close()));
    await api?.close().catch(() => {});
    if (stack) {
      await stack.stop(keepData);
      if (keepData) console.error(`bench: data and logs kept in ${stack.dataDir}`);
    }
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    aborted = sig;
    console.error(`\nbench: ${sig}, stopping the stack…`);
    try {
      writeResults();
    } catch {
      // best effort
    }
    cleanup(true).finally(() => process.exit(130));
  });
}
// Past the deadline loops stop on their own; this is the backstop if something hangs anyway.
const backstop = setTimeout(() => {
  aborted = 'deadline';
  console.error('bench: global time limit reached, stopping the stack…');
  try {
    writeResults();
  } catch {
    // best effort
  }
  cleanup(true).finally(() => process.exit(124));
}, MAX_MS + 120_000);
backstop.unref();

const log = (msg: string) => console.log(`[${round((performance.now() - benchStart) / 1000, 0).toString().padStart(4)}s] ${msg}`);

async function waitUntil(cond: () => boolean, capMs: number, pollMs = 100): Promise<boolean> {
  const end = performance.now() + capMs;
  while (alive() && performance.now() < end) {
    if (cond()) return true;
    await sleep(pollMs);
  }
  return cond();
}

// ---------------------------------------------------------------------------------------------------------
// results

type Row = {
  scenario: string;
  variant: string;
  events: number;
  deliveriesExpected: number;
  delivered: number;
  /** deliveries/s: delivered ÷ (last arrival − first publish) */
  deliveriesPerS: number;
  ratioToDirect?: number;
  /** deliveries/s ÷ the floor's, and CPU ms per delivery ÷ the floor's (rows that deliver through the engine) */
  ratioToFloor?: number;
  /** deliveries/s ÷ the design floor's (the engine plus the least a delivery stores and sends) */
  ratioToDesignFloor?: number;
  cpuRatioToFloor?: number;
  ingest?: { requests: number; events: number; errors: number; seconds: number; requestsPerS: number; eventsPerS: number; responseMs: Percentiles | null };
  latencyMs?: Percentiles | null;
  /** CPU of api+worker+temporal+ferretdb (or the direct sender) per delivery */
  cpuMsPerDelivery: number;
  wallS: number;
  procs: Record<string, ProcUsage>;
  timeline?: number[];
  extra?: Record<string, unknown>;
  notes: string[];
};

const rows: Row[] = [];

const maxOf = (xs: number[]) => xs.reduce((a, b) => (b > a ? b : a), -Infinity);

/**
 * What every stack scenario reports alike: deliveries, their rate between `from` (first publish) and `last`
 * (last arrival), stack CPU per delivery, wall time and per-process usage of the sampled window `w`.
 */
function stackFigures(set: ReceiverSet, from: number, last: number, w: { wallMs: number; procs: Record<string, ProcUsage> }) {
  return {
    delivered: set.deliveredTotal,
    deliveriesPerS: round(set.deliveredTotal / Math.max(0.001, (last - from) / 1000), 1),
    cpuMsPerDelivery: round(stackCpuMs(w.procs) / Math.max(1, set.deliveredTotal), 2),
    wallS: round(w.wallMs / 1000),
    procs: w.procs,
  };
}

function stackCpuMs(procs: Record<string, ProcUsage>, names = STACK_PROCS) {
  return names.reduce((a, n) => a + (procs[n]?.cpuMs ?? 0), 0);
}

// ---------------------------------------------------------------------------------------------------------
// publishing

type Published = Map<string, { sent: number; answered: number }>;

type PublishStats = { requests: number; errors: number; responseMs: number[]; errorSamples: string[]; firstSent: number; lastAnswered: number };

const newPublishStats = (): PublishStats => ({ requests: 0, errors: 0, responseMs: [], errorSamples: [], firstSent: Infinity, lastAnswered: 0 });

async function publishOne(type: string, data: unknown, into: Published, st: PublishStats): Promise<void> {
  const sent = performance.now();
  st.firstSent = Math.min(st.firstSent, sent);
  st.requests++;
  try {
    const r = await api!.call<{ id: string }>('POST', '/v1/events', { type, data }, 30_000);
    const answered = performance.now();
    st.lastAnswered = Math.max(st.lastAnswered, answered);
    if (r.status !== 202) throw new Error(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    st.responseMs.push(answered - sent);
    into.set(r.body.id, { sent, answered });
  } catch (err) {
    st.errors++;
    if (st.errorSamples.length < 5) st.errorSamples.push((err as Error).message);
  }
}

async function publishBatch(type: string, datas: unknown[], into: Published, st: PublishStats): Promise<number> {
  const sent = performance.now();
  st.firstSent = Math.min(st.firstSent, sent);
  st.requests++;
  try {
    const r = await api!.call<{ data: { id: string }[] }>('POST', '/v1/events/batch', { events: datas.map((data) => ({ type, data })) }, 60_000);
    const answered = performance.now();
    st.lastAnswered = Math.max(st.lastAnswered, answered);
    if (r.status !== 202) throw new Error(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    st.responseMs.push(answered - sent);
    for (const e of r.body.data) into.set(e.id, { sent, answered });
    return r.body.data.length;
  } catch (err) {
    st.errors++;
    if (st.errorSamples.length < 5) st.errorSamples.push((err as Error).message);
    return 0;
  }
}

/** Closed loop: `concurrency` publishers until `count` units or `capMs`. */
async function closedLoop(count: number, concurrency: number, capMs: number, one: (i: number) => Promise<unknown>) {
  let next = 0;
  const end = performance.now() + capMs;
  const worker = async () => {
    while (next < count && alive() && performance.now() < end) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  return next;
}

/** Open loop at a fixed rate: the i-th publish is due at t0 + i/rate; skipped (and counted) if too many are in flight. */
async function openLoop(rate: number, seconds: number, maxInFlight: number, one: (i: number) => Promise<unknown>) {
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  const end = t0 + seconds * 1000 + 5000;
  let inFlight = 0;
  let skipped = 0;
  let fired = 0;
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < total && alive() && performance.now() < end; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    inFlight++;
    fired++;
    const p = one(i).finally(() => {
      inFlight--;
      pending.delete(p);
    });
    pending.add(p);
  }
  await Promise.race([Promise.allSettled([...pending]), sleep(20_000)]);
  return { fired, skipped, seconds: (performance.now() - t0) / 1000 };
}

function latencies(published: Published, receivers: Receiver[]): number[] {
  const out: number[] = [];
  for (const r of receivers) {
    for (const [id, p] of published) {
      const at = r.delivered.get(id);
      // Ingest-to-receiver: from the moment the publish request was sent (its 202 comes after the workflow start).
      if (at !== undefined) out.push(at - p.sent);
    }
  }
  return out;
}

async function setupWebhooks(receivers: Receiver[], type: string, extra: Record<string, unknown> = {}): Promise<string[]> {
  await api!.eventType(type);
  const ids: string[] = [];
  for (const r of receivers) ids.push(await api!.webhook(r.url, [type], extra));
  return ids;
}

/**
 * Closes the receivers. Webhooks are not deleted: every variant's stack is thrown away, and deleting a webhook
 * with a backlog signals every running delivery (minutes when a variant hit its cap).
 */
async function teardown(_webhookIds: string[], set: ReceiverSet) {
  await set.close();
  openReceivers.delete(set);
}

async function receiverSet() {
  const s = new ReceiverSet();
  openReceivers.add(s);
  return s;
}

/** Waits until no request arrived for `quietMs` (bounded by capMs): leftovers must not leak into the next scenario. */
async function settle(set: ReceiverSet, quietMs: number, capMs: number): Promise<boolean> {
  let last = set.requests;
  let lastChange = performance.now();
  return waitUntil(() => {
    const now = set.requests;
    if (now !== last) {
      last = now;
      lastChange = performance.now();
    }
    return performance.now() - lastChange >= quietMs;
  }, capMs, 200);
}

// ---------------------------------------------------------------------------------------------------------
// scenarios

async function direct(): Promise<void> {
  const set = await receiverSet();
  const [rcv] = await set.add(1, 'direct');
  const count = sc(20_000, 500);
  const durationMs = sc(20_000, 3000);
  log(`direct: ${count} signed POSTs, 32 in flight, cap ${durationMs / 1000} s`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'direct-sender.ts')], {
    cwd: root,
    env: { ...process.env, DIRECT_URLS: rcv.url, DIRECT_COUNT: String(count), DIRECT_CONCURRENCY: '32', DIRECT_DURATION_MS: String(durationMs) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  sampler.add('direct', child.pid!);
  const end = sampler.begin();
  const t0 = performance.now();
  const result = await new Promise<{ sent: number; ok: number; failed: number; elapsedMs: number; cpuMs: number }>((ok, fail) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error('direct sender did not finish in time'));
    }, durationMs + 60_000);
    child.on('message', (m: { type?: string; result?: never }) => {
      if (m?.type === 'result') {
        clearTimeout(t);
        ok(m.result!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      fail(new Error(`direct sender exited with ${code} before reporting`));
    });
  });
  const w = end();
  children.delete(child);
  sampler.remove('direct');
  const times = [...rcv.delivered.values()].sort((a, b) => a - b);
  const first = times[0] ?? t0;
  const last = times[times.length - 1] ?? t0;
  const rate = times.length / Math.max(0.001, (last - first) / 1000);
  rows.push({
    scenario: 'direct',
    variant: '1 receiver, 32 in flight',
    events: result.sent,
    deliveriesExpected: result.sent,
    delivered: rcv.delivered.size,
    deliveriesPerS: round(rate, 0),
    cpuMsPerDelivery: round(result.cpuMs / Math.max(1, result.ok), 3),
    wallS: round(w.wallMs / 1000),
    procs: w.procs,
    extra: { senderView: { ...result, perS: round(result.ok / (result.elapsedMs / 1000), 0) }, receiverCpuMsPerDelivery: round((w.procs.bench?.cpuMs ?? 0) / Math.max(1, rcv.delivered.size), 3) },
    notes: ['sender and receiver share the 2 cores; no Temporal or MongoDB involved'],
  });
  await teardown([], set);
}

/**
 * `hold` (issue 22): what requests waiting on silent endpoints cost a worker. The worker's own sender and gate, in a
 * process of their own (bench/hold-sender.ts), hold 2,000 × scale signed POSTs to 100 hanging loopback endpoints;
 * that process's RSS and CPU are sampled idle, then while every request waits.
 */
async function hold(): Promise<void> {
  const set = await receiverSet();
  // 100 endpoints: the sender keeps at most 32 connections per origin (activities/http.ts), so 2,000 requests
  // reach the endpoints only over 63 or more of them.
  const rcvs = await set.add(100, 'hold', () => ({ hang: true }));
  const count = sc(2000, 200);
  const holdMs = sc(30_000, 10_000);
  log(`hold: ${count} requests held by the worker's sender on ${rcvs.length} hanging endpoints for ${holdMs / 1000} s`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'hold-sender.ts')], {
    cwd: root,
    env: { ...process.env, HOLD_URLS: rcvs.map((r) => r.url).join(','), HOLD_COUNT: String(count), HOLD_MS: String(holdMs) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const messages: { type: string; cpuMs?: number; inFlight?: number }[] = [];
  const next = (type: string) =>
    new Promise<{ type: string; cpuMs?: number; inFlight?: number }>((ok, fail) => {
      const seen = messages.find((m) => m.type === type);
      if (seen) return ok(seen);
      const t = setTimeout(() => fail(new Error(`hold sender: no '${type}' in time`)), holdMs + 60_000);
      const on = (m: { type: string }) => {
        if (m.type !== type) return;
        clearTimeout(t);
        child.off('message', on);
        ok(m);
      };
      child.on('message', on);
    });
  child.on('message', (m: { type: string }) => messages.push(m));
  await next('idle');
  await sleep(1000);
  const idle = readProc(child.pid!);
  child.send('go');
  const sent = await next('sent');
  for (const until = performance.now() + holdMs / 2; set.inFlight < count && performance.now() < until; ) await sleep(100);
  const held = set.inFlight;
  // CPU and RSS while every request waits: two samples 5 s apart (or a third of the hold at small scale).
  const a = readProc(child.pid!);
  const spanMs = Math.min(5000, holdMs / 3);
  await sleep(spanMs);
  const b = readProc(child.pid!);
  const result = await next('result');
  children.delete(child);
  const rssIdle = idle?.rssMb ?? null;
  const rssHeld = b?.rssMb ?? null;
  rows.push({
    scenario: 'hold',
    variant: `${count} requests waiting on hanging endpoints`,
    events: count,
    deliveriesExpected: 0,
    delivered: 0,
    deliveriesPerS: 0,
    cpuMsPerDelivery: round((result.cpuMs ?? 0) / count, 3),
    wallS: round(holdMs / 1000),
    procs: {},
    extra: {
      held, rssIdleMb: rssIdle === null ? null : round(rssIdle, 1), rssHeldMb: rssHeld === null ? null : round(rssHeld, 1),
      kbPerRequest: rssIdle !== null && rssHeld !== null ? round(((rssHeld - rssIdle) * 1024) / count, 1) : null,
      cpuPctWhileHeld: a && b ? round(((b.cpuMs - a.cpuMs) / spanMs) * 100, 2) : null,
      cpuMsToSendAll: round(sent.cpuMs ?? 0, 1), cpuMsTotal: round(result.cpuMs ?? 0, 1), inFlightAtGate: sent.inFlight,
    },
    notes: ['the worker\'s sender and fairness gate alone (no Temporal, no MongoDB): the cost of a request that waits, without task slots'],
  });
  log(`hold: ${held} held; RSS ${rssIdle?.toFixed(0)} → ${rssHeld?.toFixed(0)} MB; CPU while held ${a && b ? (((b.cpuMs - a.cpuMs) / spanMs) * 100).toFixed(2) : '?'} %`);
  await teardown([], set);
}

async function steady(rate: number): Promise<void> {
  const set = await receiverSet();
  const rcvs = await set.add(1, `steady${rate}-`);
  const type = `bench.steady.r${rate}`;
  const hooks = await setupWebhooks(rcvs, type);
  const seconds = sc(60, 6);
  log(`steady: ${rate} events/s for ${seconds} s, 1 webhook`);
  const published: Published = new Map();
  const st = newPublishStats();
  const end = sampler.begin();
  const loop = await openLoop(rate, seconds, 256, (i) => publishOne(type, payload('steady', i), published, st));
  // Over capacity every accepted event is queued (the 202 does not wait for the engine): wait for the backlog to drain.
  const drained = await waitUntil(() => set.deliveredTotal >= published.size, sc(20_000, 10_000) + Math.max(0, published.size - set.deliveredTotal) * 40);
  const w = end();
  const lat = latencies(published, rcvs);
  const times = set.deliveredTimes;
  const lastArrival = times.length ? maxOf(times) : st.firstSent;
  rows.push({
    scenario: 'steady',
    variant: `${rate} ev/s × ${seconds} s, 1 webhook`,
    events: published.size,
    deliveriesExpected: published.size,
    ...stackFigures(set, st.firstSent, lastArrival, w),
    ingest: ingestOf(st, published.size, loop.seconds),
    latencyMs: percentiles(lat),
    timeline: perSecond(times, st.firstSent, 600),
    // Over capacity the backlog drains after publishing stops: how long that takes.
    extra: { offeredPerS: rate, skippedTooManyInFlight: loop.skipped, publishErrors: st.errorSamples, duplicates: set.duplicates, drainAfterPublishingS: round(Math.max(0, lastArrival - (st.firstSent + loop.seconds * 1000)) / 1000, 1) },
    notes: drained ? [] : [`drain cap hit: ${published.size - set.deliveredTotal} not delivered`],
  });
  await teardown(hooks, set);
}

function ingestOf(st: PublishStats, events: number, seconds: number) {
  return {
    requests: st.requests,
    events,
    errors: st.errors,
    seconds: round(seconds, 2),
    requestsPerS: round((st.requests - st.errors) / seconds, 1),
    eventsPerS: round(events / seconds, 1),
    responseMs: percentiles(st.responseMs),
  };
}

async function burst(mode: 'single' | 'batch'): Promise<void> {
  const set = await receiverSet();
  const rcvs = await set.add(1, `burst-${mode}-`);
  const type = `bench.burst.${mode}`;
  const hooks = await setupWebhooks(rcvs, type);
  const count = sc(10_000, 200);
  const ingestCapMs = sc(45_000, 15_000);
  const drainCapMs = sc(45_000, 15_000);
  log(`burst/${mode}: ${count} events, ${CONCURRENCY} requests in flight${mode === 'batch' ? ', 100 per request' : ''}`);
  const published: Published = new Map();
  const st = newPublishStats();
  const end = sampler.begin();
  const t0 = performance.now();
  if (mode === 'single') {
    await closedLoop(count, CONCURRENCY, ingestCapMs, (i) => publishOne(type, payload('burst', i), published, st));
  } else {
    const batches = Math.ceil(count / 100);
    await closedLoop(batches, CONCURRENCY, ingestCapMs, (b) =>
      publishBatch(type, Array.from({ length: Math.min(100, count - b * 100) }, (_, k) => payload('burst', b * 100 + k)), published, st),
    );
  }
  const ingestSeconds = (performance.now() - t0) / 1000;
  const deliveredAtIngestEnd = set.deliveredTotal;
  log(`burst/${mode}: ${published.size} accepted in ${round(ingestSeconds)} s (${round(published.size / ingestSeconds, 0)} ev/s); ${deliveredAtIngestEnd} delivered so far`);
  const drained = await waitUntil(() => set.deliveredTotal >= published.size, drainCapMs, 200);
  const w = end();
  const times = [...set.deliveredTimes].sort((a, b) => a - b);
  const first = times[0] ?? t0;
  const last = times[times.length - 1] ?? t0;
  const lat = latencies(published, rcvs);
  const timeline = perSecond(times, t0, 900);
  // sustained: the delivery rate once the worker had a backlog, i.e. between the 10th and 90th percentile arrival
  const a = times[Math.floor(times.length * 0.1)] ?? first;
  const b = times[Math.floor(times.length * 0.9)] ?? last;
  const sustained = times.length > 20 ? (times.length * 0.8) / Math.max(0.001, (b - a) / 1000) : 0;
  rows.push({
    scenario: 'burst',
    variant: mode === 'single' ? `${count} × POST /v1/events, ${CONCURRENCY} in flight` : `${count} via /v1/events/batch (100 each), ${CONCURRENCY} in flight`,
    events: published.size,
    deliveriesExpected: published.size,
    ...stackFigures(set, t0, last, w),
    ingest: ingestOf(st, published.size, ingestSeconds),
    latencyMs: percentiles(lat),
    timeline,
    extra: {
      sustainedDeliveriesPerS_p10_p90: round(sustained, 1),
      deliveredWhileIngesting: deliveredAtIngestEnd,
      drainSeconds: round((last - t0) / 1000 - ingestSeconds, 1),
      publishErrors: st.errorSamples,
      duplicates: set.duplicates,
    },
    notes: drained ? [] : [`drain cap (${drainCapMs / 1000} s) hit: ${published.size - set.deliveredTotal} not delivered`],
  });
  await teardown(hooks, set);
}

/**
 * The third baseline: what accepting an event durably costs without the engine — burst's publishes (same count,
 * concurrency and cap) of a type no webhook listens to, so each is authenticated, validated, stored and answered
 * 202, and nothing is started. Its CPU per event beside the floor's says how much of a delivery's cost is ingest.
 */
async function ingest(): Promise<void> {
  const type = 'bench.ingest.unmatched';
  await api!.eventType(type);
  const count = sc(10_000, 200);
  const capMs = sc(45_000, 15_000);
  log(`ingest: ${count} events nobody listens to, ${CONCURRENCY} requests in flight`);
  const published: Published = new Map();
  const st = newPublishStats();
  const end = sampler.begin();
  const t0 = performance.now();
  await closedLoop(count, CONCURRENCY, capMs, (i) => publishOne(type, payload('ingest', i), published, st));
  const seconds = (performance.now() - t0) / 1000;
  const w = end();
  rows.push({
    scenario: 'ingest',
    variant: `${count} × POST /v1/events matching no webhook, ${CONCURRENCY} in flight`,
    events: published.size, deliveriesExpected: 0, delivered: 0,
    deliveriesPerS: round(published.size / seconds, 1),
    cpuMsPerDelivery: round(stackCpuMs(w.procs) / Math.max(1, published.size), 2),
    wallS: round(w.wallMs / 1000), procs: w.procs,
    ingest: ingestOf(st, published.size, seconds),
    latencyMs: percentiles(st.responseMs),
    extra: { eventsPerS: round(published.size / seconds, 1), publishErrors: st.errorSamples },
    notes: ['deliveries/s and CPU columns are per accepted event; latency = the 202\'s response time'],
  });
}

async function fanout(n: number): Promise<void> {
  const set = await receiverSet();
  const rcvs = await set.add(n, `fan${n}-`);
  const type = `bench.fanout.w${n}`;
  const hooks = await setupWebhooks(rcvs, type);
  const target = sc(600, 100);
  const events = Math.max(2, Math.ceil(target / n));
  const expected = events * n;
  log(`fanout: ${events} events × ${n} webhooks = ${expected} deliveries`);
  const published: Published = new Map();
  const st = newPublishStats();
  const end = sampler.begin();
  const t0 = performance.now();
  await closedLoop(events, CONCURRENCY, sc(30_000, 15_000), (i) => publishOne(type, payload('fanout', i), published, st));
  const ingestSeconds = (performance.now() - t0) / 1000;
  const drained = await waitUntil(() => set.deliveredTotal >= published.size * n, sc(30_000, 15_000), 200);
  const w = end();
  const times = set.deliveredTimes;
  const last = times.length ? maxOf(times) : t0;
  const lat = latencies(published, rcvs);
  rows.push({
    scenario: 'fanout',
    variant: `${events} events → ${n} webhook${n > 1 ? 's' : ''}`,
    events: published.size,
    deliveriesExpected: published.size * n,
    ...stackFigures(set, t0, last, w),
    ingest: ingestOf(st, published.size, ingestSeconds),
    latencyMs: percentiles(lat),
    timeline: perSecond(times, t0, 900),
    extra: {
      cpuMsPerDeliveryByProcess: Object.fromEntries(Object.entries(w.procs).map(([k, v]) => [k, round(v.cpuMs / Math.max(1, set.deliveredTotal), 2)])),
      publishErrors: st.errorSamples,
      duplicates: set.duplicates,
    },
    notes: drained ? [] : [`drain cap hit: ${published.size * n - set.deliveredTotal} not delivered`],
  });
  await teardown(hooks, set);
}

async function failing(withFailures: boolean): Promise<void> {
  const n = 10;
  const failingIdx = new Set([0, 1]); // 20 % of the receivers
  const failSeconds = sc(30, 5);
  let failUntil = Infinity;
  const set = await receiverSet();
  const rcvs = await set.add(n, `fail${withFailures ? 'on' : 'off'}-`, (i) => ({
    failing: withFailures && failingIdx.has(i) ? () => performance.now() < failUntil : undefined,
  }));
  const type = `bench.failing.${withFailures ? 'on' : 'off'}`;
  const hooks = await setupWebhooks(rcvs, type, { retry_schedule: ['1s', '2s', '5s'] });
  const seconds = sc(60, 10);
  const rate = FAILING_RATE;
  log(`failing/${withFailures ? 'with 2 of 10 failing for the first ' + failSeconds + ' s' : 'baseline, all healthy'}: ${rate} events/s × ${seconds} s → 10 webhooks`);
  const published: Published = new Map();
  const st = newPublishStats();
  const end = sampler.begin();
  const t0 = performance.now();
  failUntil = t0 + failSeconds * 1000;
  const loop = await openLoop(rate, seconds, 256, (i) => publishOne(type, payload('failing', i), published, st));
  const healthy = rcvs.filter((_, i) => !failingIdx.has(i));
  const bad = rcvs.filter((_, i) => failingIdx.has(i));
  const healthyDone = () => healthy.every((r) => r.delivered.size >= published.size);
  const drained = await waitUntil(healthyDone, sc(20_000, 10_000), 200);
  // failing receivers: retries run up to 1+2+5 s after the first attempt; wait until they are quiet
  await settle(set, 6000, sc(12_000, 8000));
  const w = end();
  const latHealthy = latencies(published, healthy);
  const latBad = latencies(published, bad);
  const badDelivered = bad.reduce((a, r) => a + r.delivered.size, 0);
  const times = set.deliveredTimes;
  const last = times.length ? maxOf(times) : t0;
  rows.push({
    scenario: 'failing',
    variant: withFailures ? `${rate} ev/s × 10 webhooks, 2 answer 500 for ${failSeconds} s` : `${rate} ev/s × 10 webhooks, all healthy (baseline)`,
    events: published.size,
    deliveriesExpected: published.size * n,
    ...stackFigures(set, t0, last, w),
    ingest: ingestOf(st, published.size, loop.seconds),
    latencyMs: percentiles(latHealthy),
    timeline: perSecond(times, t0, 600),
    extra: {
      latencyHealthyMs: percentiles(latHealthy),
      latencyFailingReceiversToSuccessMs: percentiles(latBad),
      failingReceivers: {
        requests: bad.reduce((a, r) => a + r.requests, 0),
        answered500: bad.reduce((a, r) => a + r.answered5xx, 0),
        eventuallyDelivered: badDelivered,
        neverDelivered: published.size * bad.length - badDelivered,
      },
      skippedTooManyInFlight: loop.skipped,
      publishErrors: st.errorSamples,
    },
    notes: drained ? [] : ['healthy webhooks not all delivered within the cap'],
  });
  await teardown(hooks, set);
}

// ---------------------------------------------------------------------------------------------------------
// report

/** The code under test: HEAD and whether the server code has uncommitted changes. */
function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'activities', 'workflows', 'scripts', 'bench', ':!bench/results'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return null;
  }
}

function machine() {
  let memTotalMb = Math.round(os.totalmem() / 1048576);
  try {
    const m = /MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) memTotalMb = Math.round(Number(m[1]) / 1024);
  } catch {
    // os.totalmem is fine
  }
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memTotalMb,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadavg: os.loadavg().map((x) => round(x, 2)),
  };
}

const fmt = (x: number | undefined | null, d = 0) => (x === undefined || x === null || Number.isNaN(x) ? '–' : round(x, d).toLocaleString('en-US'));

function table(): string {
  const directRate = rows.find((r) => r.scenario === 'direct')?.deliveriesPerS;
  const lines = [
    '| scenario | load | delivered / expected | deliveries/s | × direct | × floor | × design floor | API ingest ev/s | latency p50 / p95 / p99 ms | stack CPU ms/delivery | × floor CPU | CPU % hookrelay / api / worker / temporal / ferretdb / postgresql / floor / bench |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  // The floor that starts workflows the way the measured stack does: eager starts for the all-in-one process.
  const floorEager = PROFILE === 'embedded' && PROCESSES === 'all-in-one';
  const floorRow = rows.find((r) => r.scenario === 'floor' && r.delivered > 0 && r.extra?.eager === floorEager && !r.extra?.records) ?? rows.find((r) => r.scenario === 'floor' && r.delivered > 0 && !r.extra?.records);
  // The design's floor (the engine plus the least a delivery stores and sends): what this design allows here.
  const designRow = rows.find((r) => r.scenario === 'floor' && r.delivered > 0 && r.extra?.records);
  const ratioText = (x: number | undefined) => (x === undefined ? '–' : x < 0.1 ? x.toFixed(3) : x.toFixed(2));
  for (const r of rows) {
    if (r.scenario === 'noisy') continue; // its own table below
    const ratio = directRate ? r.deliveriesPerS / directRate : undefined;
    r.ratioToDirect = ratio === undefined ? undefined : round(ratio, 4);
    // × floor only for rows that deliver through the engine (not direct, not the list scenario).
    const delivers = r.scenario !== 'direct' && r.scenario !== 'list' && r.delivered > 0;
    const toFloor = floorRow && delivers ? r.deliveriesPerS / floorRow.deliveriesPerS : undefined;
    const cpuToFloor = floorRow && delivers && floorRow.cpuMsPerDelivery > 0 ? r.cpuMsPerDelivery / floorRow.cpuMsPerDelivery : undefined;
    r.ratioToFloor = toFloor === undefined ? undefined : round(toFloor, 4);
    const toDesign = designRow && delivers ? r.deliveriesPerS / designRow.deliveriesPerS : undefined;
    r.ratioToDesignFloor = toDesign === undefined ? undefined : round(toDesign, 4);
    r.cpuRatioToFloor = cpuToFloor === undefined ? undefined : round(cpuToFloor, 3);
    const l = r.latencyMs;
    const p = (n: string) => {
      const names = Object.keys(r.procs).filter((k) => k === n || k.startsWith(`${n}-`));
      return names.length ? fmt(names.reduce((a, k) => a + (r.procs[k]?.cpuPct ?? 0), 0)) : '–';
    };
    lines.push(
      `| ${r.scenario} | ${r.variant} | ${fmt(r.delivered)} / ${fmt(r.deliveriesExpected)} | ${fmt(r.deliveriesPerS, 1)} | ${r.scenario === 'direct' ? '1' : ratioText(ratio)} | ${ratioText(toFloor)} | ${ratioText(toDesign)} | ${r.ingest ? fmt(r.ingest.eventsPerS, 1) : '–'} | ${l ? `${fmt(l.p50)} / ${fmt(l.p95)} / ${fmt(l.p99)}` : '–'} | ${fmt(r.cpuMsPerDelivery, 2)}${r.scenario === 'direct' ? ' (sender)' : ''}${floorRow && delivers ? ` (floor ${fmt(floorRow.cpuMsPerDelivery, 2)})` : ''} | ${ratioText(cpuToFloor)} | ${r.scenario === 'direct' ? `sender ${p('direct')}, receiver ${p('bench')}` : CPU_GROUPS.map(p).join(' / ')} |`,
    );
  }
  const noisyLines = noisyTable(rows);
  if (!noisyLines) return lines.join('\n');
  return rows.some((r) => r.scenario !== 'noisy') ? `${lines.join('\n')}\n\n${noisyLines}` : noisyLines;
}

// ---------------------------------------------------------------------------------------------------------

/**
 * The floor: the same Temporal server (same flags, same search attributes), a worker process with hookrelay's
 * worker settings, and workflows that do only what the engine must do for a delivery — start with the four
 * search attributes, one local activity that returns at once, the final upsert — started 16 at a time like the
 * burst's publishes. No MongoDB, no HTTP. Its rate and its CPU per workflow (Temporal + the floor process) are
 * the limit hookrelay's rows are compared with.
 */
async function floor(eager: boolean, records = false): Promise<void> {
  const count = sc(10_000, 200);
  log(`floor: ${count} workflows, ${CONCURRENCY} starts in flight${eager ? ', eager starts over the worker connection' : ''}${records ? ', with the records and the POST' : ''}`);
  const set = records ? await receiverSet() : null;
  const [rcv] = set ? await set.add(1, 'floor') : [];
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'floor/worker.ts')], {
    cwd: root,
    env: {
      ...process.env, TEMPORAL_ADDRESS: stack!.env.TEMPORAL_ADDRESS, WORKER_FAST_PATH: stack!.env.WORKER_FAST_PATH ?? 'false', BENCH_FLOOR_EAGER: String(eager),
      BENCH_FLOOR_RECORDS: String(records), MONGODB_URL: stack!.env.MONGODB_URL, MONGODB_DB: `${stack!.env.MONGODB_DB}_floor`, RECEIVER_URL: rcv?.url ?? '',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  try {
    await new Promise<void>((ok, fail) => {
      const t = setTimeout(() => fail(new Error('floor worker did not start')), 120_000);
      child.on('message', (m: { type?: string }) => m?.type === 'ready' && (clearTimeout(t), ok()));
      child.once('exit', (code) => fail(new Error(`floor worker exited with ${code}`)));
    });
    sampler.add('floor', child.pid!);
    const end = sampler.begin();
    const result = await new Promise<{ startedAt: number; times: number[]; errors: number; eagerlyStarted: number }>((ok, fail) => {
      const t = setTimeout(() => fail(new Error('floor run did not finish')), 600_000);
      child.on('message', (m: { type?: string; startedAt: number; times: number[]; errors: number; eagerlyStarted: number }) => m?.type === 'result' && (clearTimeout(t), ok(m)));
      child.send({ type: 'run', count, concurrency: CONCURRENCY });
    });
    const w = end();
    const last = maxOf(result.times);
    const rate = result.times.length / Math.max(0.001, (last - result.startedAt) / 1000);
    const n = Math.max(1, result.times.length);
    rows.push({
      scenario: 'floor',
      variant: records
        ? `${count} workflows, ${CONCURRENCY} starts in flight, ${eager ? 'eager' : 'separate client connection'}, each with the event + delivery inserted, a signed POST and one update (the design's floor)`
        : `${count} no-op workflows, ${CONCURRENCY} starts in flight, ${eager ? 'eager starts (one process)' : 'separate client connection'}`,
      events: count, deliveriesExpected: count, delivered: result.times.length,
      deliveriesPerS: round(rate, 1),
      // Every process of the stack but hookrelay's (idle here), plus the floor's: Temporal and its store (SQLite in
      // the dev server, PostgreSQL in the cluster profile), FerretDB.
      cpuMsPerDelivery: round(stackCpuMs(w.procs, [...STACK_PROCS.filter((p) => !/^(hookrelay|api|worker)(-|$)/.test(p)), 'floor']) / n, 2),
      wallS: round(w.wallMs / 1000),
      procs: w.procs,
      extra: {
        eager, records, errors: result.errors, eagerlyStarted: result.eagerlyStarted, received: set?.deliveredTotal,
        temporalCpuMsPerWorkflow: round((w.procs.temporal?.cpuMs ?? 0) / n, 2), floorProcessCpuMsPerWorkflow: round((w.procs.floor?.cpuMs ?? 0) / n, 2),
        ferretdbCpuMsPerWorkflow: round((w.procs.ferretdb?.cpuMs ?? 0) / n, 2),
      },
      notes: [records ? 'CPU = Temporal server + the floor process (starter and worker) + FerretDB' : 'CPU = Temporal server + the floor process (starter and worker)'],
    });
  } finally {
    sampler.remove('floor');
    child.kill('SIGTERM');
    children.delete(child);
    await set?.close();
    if (set) openReceivers.delete(set);
  }
}

/**
 * Listing webhooks while the database holds many deliveries: LIST_WEBHOOKS webhooks, LIST_DELIVERIES deliveries
 * (each with one finished attempt, 90 % succeeded) written straight into MongoDB and summed into each webhook's
 * health summary by the worker's own code; then GET /v1/webhooks?per_page=100 repeatedly, idle.
 */
/**
 * The long run: a steady rate (BENCH_LONG_RATE, default 45 events/s, about half of this machine's capacity) for
 * 10 minutes (× BENCH_SCALE) to 1 webhook, while the retention schedule (every 30 s here) deletes old data seeded
 * at the start (events, deliveries and attempts 40 days old): the rate and latency per minute show whether they
 * hold as the databases grow.
 */
async function long(): Promise<void> {
  const rate = Number(process.env.BENCH_LONG_RATE ?? 45);
  const seconds = sc(600, 60);
  const set = await receiverSet();
  const rcvs = await set.add(1, 'long-');
  const type = 'bench.long';
  const hooks = await setupWebhooks(rcvs, type);
  const oldCount = sc(50_000, 5_000);
  const t0 = performance.now();
  const seeded = await seedOld(stack!.env.MONGODB_URL, stack!.env.MONGODB_DB, hooks[0], oldCount, 40);
  log(`long: ${oldCount} old events + deliveries + attempts written in ${round((performance.now() - t0) / 1000, 1)} s; ${rate} events/s for ${seconds} s`);
  const dbBytes = () => dirBytes(stack!.dataDir);
  const bytesStart = dbBytes();
  const published: Published = new Map();
  const st = newPublishStats();
  const end = sampler.begin();
  const loop = await openLoop(rate, seconds, 256, (i) => publishOne(type, payload('long', i), published, st));
  const drained = await waitUntil(() => set.deliveredTotal >= published.size, sc(30_000, 10_000));
  const w = end();
  const left = await countOld(stack!.env.MONGODB_URL, stack!.env.MONGODB_DB);
  const times = set.deliveredTimes;
  const lastArrival = times.length ? maxOf(times) : st.firstSent;
  // Per minute of publishing: deliveries that arrived in it, and the latency of the events published in it.
  const minutes: { minute: number; deliveredPerS: number; p50: number | null; p99: number | null }[] = [];
  for (let m = 0; m * 60 < seconds; m++) {
    const [a, b] = [st.firstSent + m * 60_000, st.firstSent + Math.min(seconds, (m + 1) * 60) * 1000];
    const arrived = times.filter((x) => x >= a && x < b).length;
    const lat: number[] = [];
    for (const [id, p] of published) {
      if (p.sent < a || p.sent >= b) continue;
      const at = rcvs[0].delivered.get(id);
      if (at !== undefined) lat.push(at - p.sent);
    }
    const pc = percentiles(lat);
    minutes.push({ minute: m + 1, deliveredPerS: round(arrived / ((b - a) / 1000), 1), p50: pc ? round(pc.p50) : null, p99: pc ? round(pc.p99) : null });
  }
  const [first, lastMinute] = [minutes[0], minutes[minutes.length - 1]];
  rows.push({
    scenario: 'long',
    variant: `${rate} ev/s × ${seconds} s, 1 webhook, retention deleting ${oldCount.toLocaleString('en-US')} old events`,
    events: published.size,
    deliveriesExpected: published.size,
    ...stackFigures(set, st.firstSent, lastArrival, w),
    ingest: ingestOf(st, published.size, loop.seconds),
    latencyMs: percentiles(latencies(published, rcvs)),
    timeline: perSecond(times, st.firstSent, 1200),
    extra: {
      offeredPerS: rate, minutes, lastToFirstMinute: first && lastMinute ? round(lastMinute.deliveredPerS / Math.max(0.001, first.deliveredPerS), 3) : null,
      retention: { seeded, left, deleted: { events: oldCount - left.events, deliveries: oldCount - left.deliveries } },
      dataDirBytes: { start: bytesStart, end: dbBytes() }, publishErrors: st.errorSamples, duplicates: set.duplicates,
    },
    notes: [
      ...(drained ? [] : [`drain cap hit: ${published.size - set.deliveredTotal} not delivered`]),
      `per minute (deliveries/s, p50/p99 ms): ${minutes.map((x) => `${x.deliveredPerS} (${x.p50}/${x.p99})`).join(', ')}`,
      `retention: old deliveries ${oldCount} → ${left.deliveries}, old events ${oldCount} → ${left.events}`,
    ],
  });
  await teardown(hooks, set);
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

async function list(): Promise<void> {
  const set = await receiverSet();
  const [rcv] = await set.add(1, 'list');
  await api!.eventType('bench.list');
  const ids: string[] = [];
  for (let i = 0; i < LIST_WEBHOOKS; i++) ids.push(await api!.webhook(rcv.url, ['bench.list']));
  const t0 = performance.now();
  const seeded = await seedDeliveries(stack!.env.MONGODB_URL, stack!.env.MONGODB_DB, ids, LIST_DELIVERIES);
  log(`list: ${seeded.deliveries} deliveries and ${seeded.attempts} attempts written in ${round((performance.now() - t0) / 1000, 1)} s`);
  const requests = sc(30, 5);
  const end = sampler.begin();
  const ms: number[] = [];
  let health: Record<string, number> = {};
  for (let i = 0; i < requests && alive(); i++) {
    const a = performance.now();
    const r = await api!.call<{ data: { health_status: string }[] }>('GET', '/v1/webhooks?per_page=100', undefined, 600_000);
    ms.push(performance.now() - a);
    if (r.status !== 200) throw new Error(`GET /v1/webhooks → ${r.status}`);
    health = {};
    for (const w of r.body.data) health[w.health_status] = (health[w.health_status] ?? 0) + 1;
  }
  const w = end();
  await teardown(ids, set);
  rows.push({
    scenario: 'list',
    variant: `GET /v1/webhooks?per_page=100, ${LIST_WEBHOOKS} webhooks, ${LIST_DELIVERIES.toLocaleString('en-US')} deliveries`,
    events: ms.length, deliveriesExpected: 0, delivered: 0, deliveriesPerS: 0,
    latencyMs: percentiles(ms),
    cpuMsPerDelivery: 0,
    wallS: round(w.wallMs / 1000),
    procs: w.procs,
    extra: { requests: ms.length, responseMs: percentiles(ms), health, seeded },
    notes: ['latency column: response time of the list request (idle stack)'],
  });
  log(`list: ${ms.length} requests, p50 ${round(percentiles(ms)?.p50 ?? 0)} ms, health ${JSON.stringify(health)}`);
}

type Variant = { scenario: ScenarioName; label: string; run: () => Promise<void>; needsStack: boolean; stackEnv?: Record<string, string> };

function variants(): Variant[] {
  const out: Variant[] = [];
  for (const name of SELECTED) {
    if (name === 'direct') out.push({ scenario: name, label: 'direct', run: direct, needsStack: false });
    if (name === 'hold') out.push({ scenario: name, label: 'hold', run: hold, needsStack: false });
    if (name === 'steady') for (const r of STEADY_RATES) out.push({ scenario: name, label: `steady ${r}/s`, run: () => steady(r), needsStack: true });
    if (name === 'burst') for (const m of ['single', 'batch'] as const) out.push({ scenario: name, label: `burst ${m}`, run: () => burst(m), needsStack: true });
    if (name === 'failing') for (const f of [false, true]) out.push({ scenario: name, label: `failing ${f ? 'on' : 'off'}`, run: () => failing(f), needsStack: true });
    if (name === 'fanout') for (const n of FANOUT) out.push({ scenario: name, label: `fanout ${n}`, run: () => fanout(n), needsStack: true });
    // Both ways of starting: over a separate client connection (API-only process) and eagerly over the worker's
    // own connection (the all-in-one process); the one the stack uses comes first and is the rows' `× floor`.
    if (name === 'floor') {
      const order = PROFILE === 'embedded' && PROCESSES === 'all-in-one' ? [true, false] : [false, true];
      for (const eager of order) out.push({ scenario: name, label: `floor${eager ? ' eager' : ''}`, run: () => floor(eager), needsStack: true });
      // The design's floor: the engine plus the least a delivery must store and send (bench/floor/worker.ts).
      // Started the way the measured stack starts its workflows (eager only in the all-in-one process).
      if (FLOOR_RECORDS) out.push({ scenario: name, label: 'floor records', run: () => floor(order[0], true), needsStack: true });
    }
    if (name === 'list') out.push({ scenario: name, label: 'list', run: list, needsStack: true });
    if (name === 'ingest') out.push({ scenario: name, label: 'ingest', run: ingest, needsStack: true });
    if (name === 'long') out.push({ scenario: name, label: 'long', run: long, needsStack: true, stackEnv: { RETENTION_INTERVAL_MS: '30000' } });
    // One stack for all of noisy's variants (bench/noisy.ts): they settle in between, against the same baseline.
    if (name === 'noisy') {
      out.push({
        scenario: name, label: 'noisy', needsStack: true,
        run: () => noisy({
          api: api!, stack: stack!, sampler, scale: SCALE, alive, log, receiverSet, push: (r) => void rows.push(r),
          closeReceivers: async (set) => { await set.close(); openReceivers.delete(set); },
        }),
      });
    }
  }
  return out;
}

/** Sum of hookrelay_mongodb_commands_total over the processes' /metrics (-1 when none can be read). */
async function mongoCommands(urls: string[]): Promise<number> {
  const m = await metricSamples(urls, 'hookrelay_mongodb_commands_total');
  return m ? Object.values(m).reduce((a, b) => a + b, 0) : -1;
}

/** The samples of one counter over the processes' /metrics, summed by label set (null when one cannot be read). */
async function metricSamples(urls: string[], name: string): Promise<Record<string, number> | null> {
  if (urls.length === 0) return null;
  const out: Record<string, number> = {};
  for (const url of urls) {
    try {
      const text = await (await fetch(url)).text();
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`)) continue;
        const labels = line.slice(name.length, line.lastIndexOf('}') + 1);
        out[labels] = (out[labels] ?? 0) + Number(line.split(' ').pop());
      }
    } catch {
      return null;
    }
  }
  return out;
}

const diff = (a: Record<string, number> | null, b: Record<string, number> | null) =>
  a && b ? Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]).filter(([, v]) => (v as number) > 0)) : null;

/**
 * Each variant runs on a fresh stack (empty database, no backlog from the previous variant): FerretDB's cost per
 * operation grows with collection size, and a capped variant leaves running workflows behind.
 */
async function withStack(v: Variant) {
  stack = await startBenchStack((p) => sampler.add(p.name, p.pid), v.stackEnv);
  STACK_PROCS = stack.procs.filter((p) => p.pid !== process.pid).map((p) => p.name);
  api = new Api(stack.apiUrl, stack.adminKey);
  try {
    // warm-up: the first workflow start and activity load code paths (tsx, workflow bundle, pools)
    const set = await receiverSet();
    const rcvs = await set.add(1, 'warm');
    const hooks = await setupWebhooks(rcvs, 'bench.warmup');
    const pub: Published = new Map();
    const st = newPublishStats();
    await closedLoop(10, 4, 20_000, (i) => publishOne('bench.warmup', payload('warmup', i), pub, st));
    await waitUntil(() => set.deliveredTotal >= pub.size, 30_000);
    await teardown(hooks, set);
    log(`${v.label}: stack up (${stack.apiUrl}), warm-up ${set.deliveredTotal}/${pub.size} delivered`);
    const commandsBefore = await mongoCommands(stack.metricsUrls);
    const byCommandBefore = await metricSamples(stack.metricsUrls, 'hookrelay_mongodb_commands_total');
    const startsBefore = await metricSamples(stack.metricsUrls, 'hookrelay_workflow_starts_total');
    const rowsBefore = rows.length;
    // The V8 heap of the first hookrelay process, polled while the variant runs (what RSS is made of).
    const heap = { usedPeakMb: 0, totalPeakMb: 0 };
    let polling = true;
    const poll = (async () => {
      while (polling) {
        try {
          const text = await (await fetch(stack!.metricsUrls[0])).text();
          const val = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0) / 1048576;
          heap.usedPeakMb = Math.max(heap.usedPeakMb, round(val('nodejs_heap_size_used_bytes')));
          heap.totalPeakMb = Math.max(heap.totalPeakMb, round(val('nodejs_heap_size_total_bytes')));
        } catch {
          // the process may be busy or gone
        }
        await sleep(1000);
      }
    })();
    try {
      await v.run();
    } finally {
      polling = false;
      await poll;
    }
    for (const r of rows.slice(rowsBefore)) r.extra = { ...r.extra, heap };
    const commands = (await mongoCommands(stack.metricsUrls)) - commandsBefore;
    const byCommand = diff(byCommandBefore, await metricSamples(stack.metricsUrls, 'hookrelay_mongodb_commands_total'));
    const starts = diff(startsBefore, await metricSamples(stack.metricsUrls, 'hookrelay_workflow_starts_total'));
    // MongoDB round trips per delivery (API + worker; the floor uses none): what issue 14 asks to bring down.
    for (const r of rows.slice(rowsBefore)) {
      // Per delivery; per accepted event for ingest (which delivers nothing).
      const n = r.scenario === 'ingest' ? r.events : r.delivered;
      if (r.scenario === 'floor' || r.scenario === 'noisy' || n === 0 || commandsBefore < 0) continue;
      // Which commands, and how many workflow starts the server took eagerly (a busy worker has no slot: polled then).
      const perDelivery = byCommand && Object.fromEntries(Object.entries(byCommand).map(([k, v]) => [k.replace(/^\{command="(.*)"\}$/, '$1'), round((v as number) / n, 2)]));
      r.extra = { ...r.extra, mongoCommandsPerDelivery: round(commands / n, 2), mongoCommandsByName: perDelivery, workflowStarts: starts };
      r.notes.push(`MongoDB round trips per ${r.scenario === 'ingest' ? 'event' : 'delivery'} (API + worker, all commands): ${round(commands / n, 2)}`);
    }

  } finally {
    await api.close().catch(() => {});
    api = null;
    const s = stack;
    stack = null;
    await s.stop(KEEP);
    for (const n of STACK_PROCS) sampler.remove(n);
    if (KEEP) log(`${v.label}: data and logs kept in ${s.dataDir}`);
  }
}

const startedAt = new Date();
const machineStart = machine();
const gitStart = gitInfo();
let failed: unknown = null;
let written = false;

function writeResults(): string | null {
  if (written || rows.length === 0) return null;
  written = true;
  const md = table();
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    scale: SCALE,
    profile: PROFILE,
    processes: PROFILE === 'embedded' ? PROCESSES : 'split',
    scenarios: SELECTED,
    machine: { ...machineStart, loadavgEnd: os.loadavg().map((x) => round(x, 2)) },
    git: gitStart,
    config: {
      publishConcurrency: CONCURRENCY,
      floorRecords: FLOOR_RECORDS,
      failingRate: FAILING_RATE,
      freshStackPerVariant: true,
      worker: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('WORKER_'))),
    },
    aborted,
    error: failed ? String((failed as Error).message ?? failed) : null,
    rows,
    table: md,
  };
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\n${md}\n\nresults: ${file}`);
  return file;
}

async function main() {
  log(`bench: profile ${PROFILE}, scale ${SCALE}, scenarios ${SELECTED.join(', ')}, ${machineStart.nproc} CPUs, load ${machineStart.loadavg.join(' ')}`);
  sampler.start();
  try {
    for (const v of variants()) {
      if (!alive()) {
        log(`${v.label}: skipped (time limit)`);
        continue;
      }
      try {
        if (v.needsStack) await withStack(v);
        else await v.run();
        const last = rows[rows.length - 1];
        if (last) log(`${v.label}: ${last.delivered}/${last.deliveriesExpected} delivered, ${last.deliveriesPerS} deliveries/s`);
      } catch (err) {
        log(`${v.label}: failed: ${(err as Error).stack ?? err}`);
        rows.push({ scenario: v.scenario, variant: `${v.label}: FAILED`, events: 0, deliveriesExpected: 0, delivered: 0, deliveriesPerS: 0, cpuMsPerDelivery: 0, wallS: 0, procs: {}, notes: [String((err as Error).message)] });
        failed = err;
      }
    }
  } finally {
    writeResults();
    await cleanup(KEEP);
  }
  process.exit(failed ? 1 : 0);
}

void main();
