import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from './config.js';
import { createSealer } from './domain/seal.js';
import { createLogger } from './log.js';
import { openStore } from './storage/mongo.js';
import { openTemporal } from './temporal.js';
import { createPublisher } from './services/publish.js';
import { createControl } from './services/control.js';
import { createRecoveries } from './services/recoveries.js';
import { createActivities } from '../activities/index.js';
import { createSender } from '../activities/http.js';
import { fastPathUnavailable, skipNoopVmWatchdog, stopPromiseStackTraces } from './worker-vm.js';

// The worker process: runs delivery and recovery workflows and their activities.
const config = loadConfig();
const log = createLogger(config.logLevel, 'hookrelay-worker');

async function connect(): Promise<NativeConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
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
  const workflowsPath = fileURLToPath(new URL(`../workflows/index.${ext}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL(`./bundle-child.${ext}`, import.meta.url)), [workflowsPath], {
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

async function main() {
  const store = await openStore(config.mongo.url, config.mongo.db, createSealer(config.encryptionKeys));
  const temporal = openTemporal(config);
  const publisher = createPublisher({ store, temporal, log });
  const control = createControl({ store, temporal, log, publisher });
  const recoveries = createRecoveries({ store, temporal, control });
  const sender = createSender({ allowPrivateTargets: config.allowPrivateTargets });
  if (config.allowPrivateTargets) log.warn('private and loopback webhook targets are allowed (ALLOW_PRIVATE_TARGETS)');

  const bundlePath = config.worker.bundlePath;
  const [connection, workflowBundle] = await Promise.all([
    connect(),
    bundlePath ? { codePath: bundlePath } : bundleWorkflowsInChild().then((code) => ({ code })),
  ]);
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
    activities: createActivities({ store, sender, config, log, control, recoveries }),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    // Fast path: workflows on the main thread, without the per-call watchdog thread (see worker-vm.ts). Without
    // it: the SDK's defaults (workflows in a worker thread, deadlock detection, stack traces in the Web UI).
    debugMode: fastPath,
    // On SIGTERM/SIGINT: stop polling, let running attempts finish for up to 20 s; what does not finish is retried
    // by Temporal on another worker (at-least-once, same webhook-id).
    shutdownGraceTime: '20s',
  });
  if (fastPath && !stopPromiseStackTraces()) log.warn('could not stop the SDK per-promise stack-trace hook (SDK internals changed?)');
  log.info({ taskQueue: config.temporal.taskQueue, fastPath, prebuiltBundle: !!bundlePath }, 'worker started');
  if (process.send) process.send({ type: 'ready' });
  await worker.run();
  await Promise.allSettled([sender.close(), store.close(), temporal.close(), connection.close()]);
  log.info('worker stopped');
  process.exit(0);
}

main().catch((err) => {
  log.fatal({ err }, 'worker failed');
  process.exit(1);
});
