import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { openStore } from './storage/mongo.js';
import { openTemporal } from './temporal.js';
import { createPublisher } from './services/publish.js';
import { createControl } from './services/control.js';
import { createRecoveries } from './services/recoveries.js';
import { createActivities } from '../activities/index.js';
import { createSender } from '../activities/http.js';
import { skipNoopVmWatchdog, stopPromiseStackTraces } from './worker-vm.js';

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
  const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./bundle-child.ts', import.meta.url)), [workflowsPath], {
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
  const store = await openStore(config.mongo.url, config.mongo.db);
  const temporal = openTemporal(config);
  const publisher = createPublisher({ store, temporal, log });
  const control = createControl({ store, temporal, log, publisher });
  const recoveries = createRecoveries({ store, temporal, control });
  const sender = createSender({ allowPrivateTargets: config.allowPrivateTargets });
  if (config.allowPrivateTargets) log.warn('private and loopback webhook targets are allowed (ALLOW_PRIVATE_TARGETS)');

  const [connection, code] = await Promise.all([connect(), bundleWorkflowsInChild()]);
  skipNoopVmWatchdog();
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: { code },
    activities: createActivities({ store, sender, config, log, control, recoveries }),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    // Workflows on the main thread, without the per-call watchdog thread (see worker-vm.ts): measured in bench.
    debugMode: true,
    // On SIGTERM/SIGINT: stop polling, let running attempts finish for up to 20 s; what does not finish is retried
    // by Temporal on another worker (at-least-once, same webhook-id).
    shutdownGraceTime: '20s',
  });
  if (!stopPromiseStackTraces()) log.warn('could not stop the SDK per-promise stack-trace hook (SDK internals changed?)');
  log.info({ taskQueue: config.temporal.taskQueue }, 'worker started');
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
