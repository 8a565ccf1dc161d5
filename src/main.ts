import { loadConfig } from './config.js';
import { createSealer } from './domain/seal.js';
import { createLogger } from './log.js';
import { openStore } from './storage/mongo.js';
import { openTemporal } from './temporal.js';
import { initTracing } from './tracing.js';
import { startApiRole } from './roles/api.js';

// The API-only process (scaling out: as many as needed behind a load balancer, beside worker-only processes). The
// embedded default runs this role and the worker in one process: src/all-in-one.ts.
const config = loadConfig();
const log = createLogger(config.logLevel, 'hookrelay-api');

async function main() {
  const tracing = await initTracing('hookrelay-api');
  if (tracing.enabled) log.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting traces over OTLP');
  const store = await openStore(config.mongo.url, config.mongo.db, createSealer(config.encryptionKeys), { log, deadlines: config.mongo.deadlines });
  const temporal = openTemporal(config);
  const api = await startApiRole({ config, log, store, temporal });
  if (process.send) process.send({ type: 'listening', port: api.port });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down API');
    // Past the queue's 10 s drain and the requests' end.
    const forced = setTimeout(() => process.exit(1), 25_000);
    forced.unref();
    await api.stop();
    await Promise.allSettled([store.close(), temporal.close(), tracing.shutdown()]);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  log.fatal({ err }, 'API failed to start');
  process.exit(1);
});
