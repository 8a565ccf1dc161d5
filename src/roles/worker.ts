import { fork } from 'node:child_process';
import v8 from 'node:v8';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import client from 'prom-client';
import { createServer as createNetServer } from 'node:net';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createDeliveryMetrics, type DeliveryMetrics } from '../../activities/metrics.js';
import { createActivities } from '../../activities/index.js';
import { createSender } from '../../activities/http.js';
import type { EgressHealth } from '../../activities/egress.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { commandCounts, withStoreDeadline, type Store } from '../storage/mongo.js';
import { ensureNamespaceRetention, ensureRetentionSchedule, signalRun, type Temporal } from '../temporal.js';
import { FairGate } from '../domain/fair-gate.js';
import { createPublisher } from '../services/publish.js';
import { createControl } from '../services/control.js';
import { createRecoveries } from '../services/recoveries.js';
import { createHealthRecorder } from '../services/health.js';
import { fastPathUnavailable, skipNoopVmWatchdog, stopPromiseStackTraces } from '../worker-vm.js';

/**
 * The worker role: delivery, recovery and retention workflows and their activities. Runs alone (src/worker.ts) or
 * beside the API in the all-in-one process (src/all-in-one.ts), which then starts workflows over this role's
 * connection so the server can hand each new workflow's first task straight back (eager start).
 */
export type WorkerRole = {
  connection: NativeConnection;
  worker: Worker;
  metricsPort: number | null;
  fastPath: boolean;
  /** Resolves when the worker has stopped (after shutdown(), or on a fatal error). */
  running: Promise<void>;
  /** Stops polling, lets running attempts finish (up to 20 s), then closes what the role opened. */
  shutdown(): Promise<void>;
};

async function connect(config: Config, log: Logger, beforeEach: () => Promise<void>): Promise<NativeConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      await beforeEach();
      return await NativeConnection.connect({ address: config.temporal.address });
    } catch (err) {
      if (attempt % 10 === 1) log.warn({ err: (err as Error).message }, 'Temporal not reachable; retrying');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * Bundling the workflow code loads webpack, whose ~110 MB of RSS would stay with the worker for its lifetime
 * (measured: 93 → 207 MB after bundling and a full GC). A short-lived child bundles instead.
 */
function bundleWorkflowsInChild(): Promise<string> {
  // From source (tsx) the modules are .ts; compiled (dist/) they are .js.
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const workflowsPath = fileURLToPath(new URL(`../../workflows/index.${ext}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL(`../bundle-child.${ext}`, import.meta.url)), [workflowsPath], {
      execArgv: process.execArgv.filter((a) => !a.startsWith('--cpu-prof')),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let code: string | null = null;
    child.once('message', (m: { code: string }) => {
      code = m.code;
    });
    child.once('error', reject);
    // 'close' comes after the last IPC message; 'exit' may come before a multi-megabyte one is read.
    child.once('close', (status) => (code !== null ? resolve(code) : reject(new Error(`workflow bundler exited with ${status}`))));
  });
}

/**
 * WORKER_SDK_METRICS: the Temporal SDK's own metrics (workflow-task and attempt slots in use, schedule-to-start
 * and task latencies, polls, cache size), which only the SDK can count — e.g. the slots held by tasks whose
 * completion is on its way to Temporal, which the worker's status does not see. The SDK serves them on a loopback
 * port of its own; the worker's /metrics adds them after its own. The SDK's runtime must be installed before a
 * connection creates it, and a connection that fails shuts an idle runtime down: so this runs before every
 * connection attempt, on a freshly probed port, and does nothing while a runtime is up (install refuses). If it
 * cannot be installed the worker runs without them and says so.
 */
async function installSdkMetrics(log: Logger): Promise<string | null> {
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createNetServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } } });
    return `http://127.0.0.1:${port}/metrics`;
  } catch (err) {
    // A runtime already up (installed before a connection that succeeded, or created elsewhere): keep what it has.
    if (!/already been (installed|instantiated)/.test((err as Error).message)) log.warn({ err: (err as Error).message }, 'WORKER_SDK_METRICS: the Temporal SDK metrics are not served');
    return null;
  }
}

/**
 * The worker's Prometheus endpoint (WORKER_METRICS_PORT; 0 = any free port, -1 = none). A port in use is logged,
 * not fatal: deliveries matter more than their metrics.
 */
function serveMetrics(config: Config, log: Logger, metrics: DeliveryMetrics, sdk: { url: string | null }, egress: EgressHealth): Promise<number | null> {
  if (config.workerMetricsPort < 0) return Promise.resolve(null);
  const server: Server = createServer(async (req, res) => {
    if (req.url === '/readyz') {
      // The worker's own path to the endpoints (issue 24, item 2): 503 while the egress proxy or the DNS resolver
      // fails (deliveries wait meanwhile, no attempt burned), with what fails since when. For monitoring: not a
      // liveness probe (restarting the worker does not bring a proxy back).
      const egressState = egress.snapshot();
      res.writeHead(egressState.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: egressState.status === 'ok' ? 'ready' : 'degraded', checks: { egress: egressState } }));
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    let text = await metrics.registry.metrics();
    if (sdk.url) {
      // The SDK's metrics after hookrelay's; a scrape still answers (without them) if they do not come within 2 s.
      const extra = await fetch(sdk.url, { signal: AbortSignal.timeout(2000) })
        .then((r) => (r.ok ? r.text() : ''))
        .catch(() => '');
      if (extra) text = `${text.replace(/\n?$/, '\n')}${extra}`;
    }
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  });
  return new Promise((resolve) => {
    server.once('error', (err) => {
      log.warn({ err: err.message, port: config.workerMetricsPort }, 'worker metrics not served');
      resolve(null);
    });
    server.listen(config.workerMetricsPort, config.host, () => {
      server.unref();
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * How many workflows the worker keeps in memory between their tasks. A cached delivery workflow holds ~125 KB of
 * heap (measured: 1,500 deliveries waiting for a retry took 186 MB more with the cache than without), and one that
 * waits for a retry timer gains almost nothing from the cache: evicted, its next attempt replays a history of a few
 * events. The default is therefore what the process's heap holds with room to spare, 4 per MiB over the first
 * 192 MiB (at 256 KiB each, twice the measured size), at least 50 and at most 2,000: ~390 under the all-in-one
 * process's 256 MB old space, 2,000 with Node's default heap. WORKER_MAX_CACHED_WORKFLOWS sets it outright.
 */
export function defaultCachedWorkflows(heapLimitBytes = v8.getHeapStatistics().heap_size_limit): number {
  const mib = heapLimitBytes / 1048576;
  return Math.min(2000, Math.max(50, Math.floor((mib - 192) * 4)));
}

/** Deliveries not yet ended, counted every minute (a count by status is a scan on FerretDB: not per scrape). */
function countOpenDeliveries(store: Store, metrics: DeliveryMetrics) {
  const count = async () => {
    for (const status of ['pending', 'paused'] as const) {
      try {
        metrics.open(status, await store.c.deliveries.countDocuments({ status }));
      } catch {
        // the next round tries again
      }
    }
  };
  void count();
  setInterval(count, 60_000).unref();
}

export async function startWorkerRole(deps: { config: Config; log: Logger; store: Store; temporal: Temporal }): Promise<WorkerRole> {
  const { config, log, store, temporal } = deps;
  // Operational events published from attempts are fanned out before the publish returns (no start queue here).
  const publisher = createPublisher({ store, temporal, log, queue: false });
  const control = createControl({ store, temporal, log, publisher });
  const recoveries = createRecoveries({ store, temporal, control });
  const sender = createSender({ allowPrivateTargets: config.allowPrivateTargets, proxyUrl: config.egressProxyUrl, connectTimeoutMs: config.connectTimeoutMs });
  // Fairness (docs/architecture.md): the bounds on attempts in flight of this process, per endpoint and application.
  const gate = new FairGate({ capacity: config.fairness.maxInFlight });
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const metrics = createDeliveryMetrics(registry);
  const health = createHealthRecorder(store, log);
  if (config.allowPrivateTargets) log.warn('private and loopback webhook targets are allowed (ALLOW_PRIVATE_TARGETS)');

  const bundlePath = config.worker.bundlePath;
  const sdkMetrics: { url: string | null } = { url: null };
  const withSdkMetrics = config.workerSdkMetrics && config.workerMetricsPort >= 0;
  const [connection, workflowBundle] = await Promise.all([
    connect(config, log, async () => {
      if (withSdkMetrics) sdkMetrics.url = (await installSdkMetrics(log)) ?? sdkMetrics.url;
    }),
    bundlePath ? { codePath: bundlePath } : bundleWorkflowsInChild().then((code) => ({ code })),
  ]);
  if (withSdkMetrics && !sdkMetrics.url) log.warn('WORKER_SDK_METRICS: the Temporal SDK runtime was created before the worker; its metrics are not served');
  let fastPath = config.worker.fastPath;
  const unavailable = fastPath ? fastPathUnavailable() : null;
  if (unavailable) {
    // A worker on the SDK's defaults is slower but correct; one that refused to start would deliver nothing.
    log.warn({ reason: unavailable }, 'WORKER_FAST_PATH ignored: running workflows with the SDK defaults');
    fastPath = false;
  }
  if (fastPath) skipNoopVmWatchdog();
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle,
    // Every store call an activity makes (and the work it leaves running: detached requests, background records)
    // has the worker's deadline, not the API's (storage/mongo.ts, withStoreDeadline).
    activities: withWorkerDeadline(
      createActivities({ store, sender, config, log, control, recoveries, metrics, health, gate, signal: (workflowId, runId, name, arg) => signalRun(temporal, workflowId, runId, name, arg) }),
      config.mongo.workerDeadlineMs,
    ),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    // Attempts are local activities: this is the bound on attempts in flight (the SDK's default would be 100
    // whatever WORKER_MAX_CONCURRENT_ACTIVITIES says). Each attempt also holds a workflow task slot while it runs.
    maxConcurrentLocalActivityExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows ?? defaultCachedWorkflows(),
    // Fast path: workflows on the main thread, without the per-call watchdog thread (see worker-vm.ts). Without
    // it: the SDK's defaults (workflows in a worker thread, deadlock detection, stack traces in the Web UI).
    debugMode: fastPath,
    // On SIGTERM/SIGINT: stop polling, let running attempts finish for up to 20 s; what does not finish is retried
    // by Temporal on another worker (at-least-once, same webhook-id).
    shutdownGraceTime: '20s',
  });
  if (fastPath && !stopPromiseStackTraces()) log.warn('could not stop the SDK per-promise stack-trace hook (SDK internals changed?)');
  // Temporal worker slots in use, read at each scrape.
  new client.Gauge({
    name: 'hookrelay_worker_slots_in_use',
    help: 'Temporal worker task slots in use, by kind (activity, local_activity, workflow)',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const s = worker.getStatus();
      this.set({ kind: 'activity' }, s.numInFlightNonLocalActivities);
      this.set({ kind: 'local_activity' }, s.numInFlightLocalActivities);
      this.set({ kind: 'workflow' }, s.numInFlightWorkflowActivations);
    },
  });
  new client.Counter({
    name: 'hookrelay_mongodb_commands_total', help: 'MongoDB commands (round trips) this process sent, by command', labelNames: ['command'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [command, n] of commandCounts) this.inc({ command }, n);
    },
  });
  new client.Gauge({
    name: 'hookrelay_fairness',
    help: 'The fairness gate of this worker (docs/architecture.md): attempts in flight, deliveries waiting for room, places reserved for woken ones, applications with attempts in flight, endpoints whose adaptive bound is below their max, endpoints whose latest attempts were slow',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const g = gate.stats();
      this.set({ kind: 'in_flight' }, g.inFlight);
      this.set({ kind: 'waiting' }, g.waiting);
      this.set({ kind: 'reserved' }, g.reserved);
      this.set({ kind: 'applications' }, g.applications);
      this.set({ kind: 'endpoints_limited' }, g.endpointsLimited);
      this.set({ kind: 'endpoints_slow' }, g.endpointsSlow);
    },
  });
  new client.Gauge({ name: 'hookrelay_worker_cached_workflows', help: 'Workflows in the worker cache', registers: [registry], collect() { this.set(worker.getStatus().numCachedWorkflows); } });
  countOpenDeliveries(store, metrics);
  // Retention: the cleanup's schedule, and Temporal's own history retention set to match (best effort: a worker
  // that cannot set them still delivers, and says so).
  try {
    await ensureRetentionSchedule(temporal, config.retention.intervalMs);
    const ns = await ensureNamespaceRetention(temporal, config.temporal.namespace, config.retention.days);
    log.info({ days: config.retention.days, everyMs: config.retention.intervalMs, namespaceRetention: ns }, 'retention schedule ready');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'retention schedule or namespace retention not set; retrying at the next start');
  }
  new client.Gauge({
    name: 'hookrelay_egress_unavailable',
    help: 'hookrelay\'s own path to the endpoints failing now, by path: egress proxies failing (proxy), the DNS resolver failing (resolver, 0 or 1); deliveries wait meanwhile without burning attempts',
    labelNames: ['path'] as const,
    registers: [registry],
    collect() {
      const u = sender.egress.unavailable();
      this.set({ path: 'proxy' }, u.proxy);
      this.set({ path: 'resolver' }, u.resolver);
    },
  });
  const metricsPort = await serveMetrics(config, log, metrics, sdkMetrics, sender.egress);
  log.info({ taskQueue: config.temporal.taskQueue, fastPath, prebuiltBundle: !!bundlePath, metricsPort, maxCachedWorkflows: worker.options.maxCachedWorkflows }, 'worker started');
  const running = worker.run();
  return {
    connection, worker, metricsPort, fastPath, running,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((err) => log.error({ err }, 'worker stopped with an error'));
      // The last second of health outcomes, before the store closes.
      await Promise.allSettled([sender.close(), health.flush()]);
    },
  };
}

/** The activities, each run with the worker's store deadline. */
function withWorkerDeadline<A extends Record<string, unknown>>(activities: A, ms: number): A {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [name, typeof fn === 'function' ? (...args: unknown[]) => withStoreDeadline(ms, () => (fn as (...a: unknown[]) => unknown)(...args)) : fn]),
  ) as A;
}
