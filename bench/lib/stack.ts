import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
// @ts-expect-error plain JS module shared with npm start and the tests
import { freePort, startAllInOne, startApi, startFerret, startTemporal, startWorker } from '../../scripts/stack.js';
// @ts-expect-error plain JS module shared with npm start
import { build, buildIsStale, bundleFile } from '../../scripts/build.js';
// @ts-expect-error plain JS module shared with npm run start:cluster
import { startCluster } from '../../scripts/cluster.js';

/** BENCH_PROFILE: `embedded` (default: dev server + FerretDB on SQLite, one API, one worker) or `cluster`. */
export const PROFILE = process.env.BENCH_PROFILE === 'cluster' ? 'cluster' : 'embedded';
/**
 * BENCH_PROCESSES (embedded profile): `all-in-one` (default, as npm start runs it: API and worker in one process,
 * eager workflow starts) or `split` (an API-only and a worker-only process, as when scaling out).
 */
export const PROCESSES = process.env.BENCH_PROCESSES === 'split' ? 'split' : 'all-in-one';

export type Proc = { name: string; pid: number; stop(timeoutMs?: number): Promise<void>; running: boolean };

export type BenchStack = {
  apiUrl: string;
  adminKey: string;
  dataDir: string;
  logDir: string;
  env: Record<string, string>;
  procs: Proc[];
  /** Prometheus endpoints of the API and worker processes (for the MongoDB round trips per delivery). */
  metricsUrls: string[];
  /** The workers' own /metrics (slots in use and the other worker gauges; empty when a worker has none). */
  workerMetricsUrls: string[];
  stop(keepData: boolean): Promise<void>;
};

/**
 * A throwaway stack on free ports: Temporal dev server (headless), FerretDB, API, worker — the same
 * functions `npm start` and the tests use. Processes already started are stopped if a later one fails.
 */
export async function startBenchStack(onProc: (p: Proc) => void, extraEnv: Record<string, string> = {}): Promise<BenchStack> {
  if (PROFILE === 'cluster') return startClusterBenchStack(onProc);
  const dataDir = mkdtempSync(join(tmpdir(), 'hookrelay-bench-'));
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const procs: Proc[] = [];
  const track = (p: Proc) => {
    procs.push(p);
    onProc(p);
    return p;
  };
  const stop = async (keepData: boolean) => {
    for (const p of [...procs].reverse()) await p.stop(10_000).catch(() => {});
    procs.length = 0;
    if (!keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const [temporalPort, mongoPort] = [await freePort(), await freePort()];
    const [temporal, ferret] = await Promise.allSettled([
      startTemporal({ port: temporalPort, dbFile: join(dataDir, 'temporal.db'), logDir, headless: true }),
      startFerret({ port: mongoPort, dataDir: join(dataDir, 'ferretdb'), logDir }),
    ]);
    for (const r of [temporal, ferret]) if (r.status === 'fulfilled') track(r.value as Proc);
    for (const r of [temporal, ferret]) if (r.status === 'rejected') throw r.reason;
    const adminKey = `hrk_${randomBytes(24).toString('hex')}`;
    const env: Record<string, string> = {
      HOOKRELAY_ENV: 'test', // allows http:// and loopback targets
      PORT: '0',
      MONGODB_URL: `mongodb://127.0.0.1:${mongoPort}/`,
      MONGODB_DB: 'hookrelay_bench',
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      TEMPORAL_TASK_QUEUE: 'hookrelay-bench',
      ADMIN_KEY: adminKey,
      HOOKRELAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
      API_RATE_LIMIT_PER_S: '1000000',
      API_RATE_LIMIT_BURST: '1000000',
      // As npm start runs it; BENCH_WORKER_FAST_PATH=false measures the SDK defaults.
      WORKER_FAST_PATH: process.env.BENCH_WORKER_FAST_PATH ?? 'true',
      WORKER_METRICS_PORT: '0',
      // BENCH_NODE_OPTIONS: V8 flags for hookrelay's processes only (e.g. heap limits when measuring memory).
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      ...extraEnv,
    };
    if (PROCESSES === 'all-in-one') {
      // What npm start runs: the compiled code and the prebuilt workflow bundle (built here when stale).
      if (buildIsStale()) await build();
      env.WORKFLOW_BUNDLE_PATH = bundleFile;
      // One process, one MongoDB counter: read once.
      const one = track((await startAllInOne({ env, logDir, compiled: true })) as Proc) as Proc & { url: string; metricsPort: number | null };
      const workerMetricsUrls = one.metricsPort ? [`http://127.0.0.1:${one.metricsPort}/metrics`] : [];
      return { apiUrl: one.url, adminKey, dataDir, logDir, env, procs, stop, metricsUrls: [`${one.url}/metrics`], workerMetricsUrls };
    }
    const api = track((await startApi({ env, logDir })) as Proc) as Proc & { url: string };
    const worker = track((await startWorker({ env, logDir })) as Proc) as Proc & { metricsPort: number | null };
    const workerMetricsUrls = worker.metricsPort ? [`http://127.0.0.1:${worker.metricsPort}/metrics`] : [];
    const metricsUrls = [`${api.url}/metrics`, ...workerMetricsUrls];
    return { apiUrl: api.url, adminKey, dataDir, logDir, env, procs, stop, metricsUrls, workerMetricsUrls };
  } catch (err) {
    await stop(true);
    throw Object.assign(err as Error, { logDir });
  }
}

/**
 * The cluster profile (scripts/cluster.js) as a bench stack: PostgreSQL, the Temporal server, FerretDB on
 * PostgreSQL, two API processes behind the round-robin balancer (which runs inside the bench process, so its
 * CPU counts as the bench's), two workers. The same relaxations of the target rules as the embedded bench.
 */
async function startClusterBenchStack(onProc: (p: Proc) => void): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookrelay-bench-cluster-'));
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const adminKey = `hrk_${randomBytes(24).toString('hex')}`;
  const procs: Proc[] = [];
  const cluster = await startCluster({
    dataDir, logDir, ui: false,
    env: {
      ADMIN_KEY: adminKey, HOOKRELAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), ALLOW_HTTP_TARGETS: 'true', ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'warn',
      MONGODB_DB: 'hookrelay_bench', WORKER_METRICS_PORT: '0', API_RATE_LIMIT_PER_S: '1000000', API_RATE_LIMIT_BURST: '1000000',
    },
    track: (p: Proc) => {
      procs.push(p);
      if (p.pid !== process.pid) onProc(p);
      return p;
    },
  });
  return {
    apiUrl: cluster.apiUrl, adminKey, dataDir, logDir, env: cluster.env, procs, metricsUrls: [], workerMetricsUrls: [],
    async stop(keepData: boolean) {
      await cluster.stop();
      procs.length = 0;
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
