import { loadConfig } from './config.js';
import { initTracing } from './tracing.js';
import { createSealer } from './domain/seal.js';
import { createLogger } from './log.js';
import { openStore } from './storage/mongo.js';
import { openTemporal } from './temporal.js';
import { startWorkerRole } from './roles/worker.js';

// The worker-only process (scaling out: as many as needed beside API-only processes). The embedded default runs
// this role and the API in one process: src/all-in-one.ts.
const config = loadConfig();
const log = createLogger(config.logLevel, 'hookrelay-worker');

async function main() {
  const tracing = await initTracing('hookrelay-worker');
  const store = await openStore(config.mongo.url, config.mongo.db, createSealer(config.encryptionKeys), { log, deadlines: config.mongo.deadlines, longestOpMs: config.mongo.workerDeadlineMs });
  const temporal = openTemporal(config);
  const role = await startWorkerRole({ config, log, store, temporal });
  if (process.send) process.send({ type: 'ready', metricsPort: role.metricsPort });
  // The SDK stops the worker on SIGINT/SIGTERM by itself (graceful: running attempts get 20 s).
  await role.running.catch((err) => log.error({ err }, 'worker stopped with an error'));
  await role.shutdown();
  await Promise.allSettled([store.close(), temporal.close(), role.connection.close(), tracing.shutdown()]);
  log.info('worker stopped');
  process.exit(0);
}

main().catch((err) => {
  log.fatal({ err }, 'worker failed');
  process.exit(1);
});
