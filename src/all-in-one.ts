import { loadConfig } from './config.js';
import { createSealer } from './domain/seal.js';
import { createLogger } from './log.js';
import { openStore } from './storage/mongo.js';
import { openTemporal } from './temporal.js';
import { initTracing } from './tracing.js';
import { startApiRole } from './roles/api.js';
import { startWorkerRole } from './roles/worker.js';

// The embedded default (npm start): the API and the worker in one process, on one MongoDB client and one Temporal
// connection. Starting a delivery's workflow over the worker's own connection lets the server hand its first task
// straight back in the start's answer (eager workflow start): no task-queue poll, one process less, and about a
// third less Temporal CPU per delivery (docs/performance.md). To scale out, run API-only (src/main.ts) and
// worker-only (src/worker.ts) processes instead; they share nothing but MongoDB and Temporal.
const config = loadConfig();
const log = createLogger(config.logLevel, 'hookrelay');

async function main() {
  const tracing = await initTracing('hookrelay');
  if (tracing.enabled) log.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting traces over OTLP');
  const store = await openStore(config.mongo.url, config.mongo.db, createSealer(config.encryptionKeys), { log, deadlines: config.mongo.deadlines, longestOpMs: config.mongo.workerDeadlineMs });
  const temporal = openTemporal(config);
  // The API answers at once (503 for what needs Temporal while it is unreachable); the worker joins when it can.
  const api = await startApiRole({ config, log, store, temporal });
  if (process.send) process.send({ type: 'listening', port: api.port });

  let stopping = false;
  let worker: Awaited<ReturnType<typeof startWorkerRole>> | null = null;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), 30_000);
    forced.unref();
    // New requests stop first; running attempts then get the worker's grace time.
    await api.stop();
    await worker?.shutdown();
    await Promise.allSettled([store.close(), temporal.close(), worker?.connection.close(), tracing.shutdown()]);
    process.exit(0);
  };
  // The Temporal SDK's runtime also stops its workers on these signals; shutdown() waits for that.
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  worker = await startWorkerRole({ config, log, store, temporal });
  temporal.useWorkerConnection(worker.connection);
  log.info({ eagerStart: true }, 'worker running in the API process');
  if (process.send) process.send({ type: 'ready', metricsPort: worker.metricsPort });
  await worker.running.catch(() => {});
  // The worker ended without a shutdown (a fatal error): exit, so the supervisor starts the process again.
  if (!stopping) {
    log.fatal('worker stopped unexpectedly');
    process.exit(1);
  }
}

main().catch((err) => {
  log.fatal({ err }, 'hookrelay failed to start');
  process.exit(1);
});
