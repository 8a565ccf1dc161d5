import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { loadConfig } from './config.js';
import { createSealer } from './domain/seal.js';
import { createLogger } from './log.js';
import { ensureIndexes, openStore } from './storage/mongo.js';
import { openTemporal } from './temporal.js';
import { createServices } from './services/index.js';
import { bootstrap } from './services/orgs.js';
import { createApp } from './api/app.js';
import { fanoutWidth } from './api/ops.js';
import { initTracing } from './tracing.js';

// The API process: config → deps → Koa server, plus the fan-out sweep that finishes publishes a crash cut short.
const config = loadConfig();
const log = createLogger(config.logLevel, 'hookrelay-api');

async function prepareDatabase(store: Awaited<ReturnType<typeof openStore>>) {
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureIndexes(store);
      const created = await bootstrap(store, config.adminKey);
      if (created) {
        // The key never goes to the log. An operator-supplied ADMIN_KEY is never printed; a generated one is
        // written to the data dir outside production (npm start shows it from there), else printed once on stdout.
        if (config.adminKey) {
          log.info({ org: created.org._id }, 'created organization "default" with the admin key from ADMIN_KEY');
        } else if (config.dataDir && config.env !== 'production') {
          mkdirSync(config.dataDir, { recursive: true });
          writeFileSync(join(config.dataDir, 'admin-key'), `${created.key}\n`, { mode: 0o600 });
          log.info({ org: created.org._id, file: join(config.dataDir, 'admin-key') }, 'created organization "default"; its admin key is in the data dir');
        } else {
          log.info({ org: created.org._id }, 'created organization "default" with an admin key (printed once on stdout)');
          console.log(`\nhookrelay: admin API key of organization "default" (shown once): ${created.key}\n`);
        }
      }
      return;
    } catch (err) {
      if (attempt % 10 === 1) log.warn({ err: (err as Error).message }, 'MongoDB not ready; retrying');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function main() {
  const tracing = await initTracing('hookrelay-api');
  if (tracing.enabled) log.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting traces over OTLP');
  const store = await openStore(config.mongo.url, config.mongo.db, createSealer(config.encryptionKeys));
  const temporal = openTemporal(config);
  const services = createServices({ config, log, store, temporal, observe: { fanoutWidth: (n) => fanoutWidth.observe(n) } });
  const { publisher } = services;
  const app = createApp({ config, log, services });

  if (config.env === 'development') {
    log.warn('development mode: http:// and private/loopback webhook targets are allowed (ALLOW_HTTP_TARGETS / ALLOW_PRIVATE_TARGETS)');
  }
  await prepareDatabase(store);

  const server: Server = app.listen(config.port, config.host, () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    log.info({ port }, 'API listening');
    if (process.send) process.send({ type: 'listening', port });
  });
  server.keepAliveTimeout = 65_000;

  let sweeping = false;
  const sweep = setInterval(async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await publisher.sweep(config.fanoutSweep.ageMs);
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'sweep skipped');
    } finally {
      sweeping = false;
    }
  }, config.fanoutSweep.intervalMs);

  // Graceful: stop accepting, let in-flight requests finish, then close the clients.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down API');
    clearInterval(sweep);
    const forced = setTimeout(() => process.exit(1), 10_000);
    forced.unref();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections?.();
    await Promise.allSettled([store.close(), temporal.close()]);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  log.fatal({ err }, 'API failed to start');
  process.exit(1);
});
