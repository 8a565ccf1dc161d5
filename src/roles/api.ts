import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { ensureIndexes, type Store } from '../storage/mongo.js';
import type { Temporal } from '../temporal.js';
import { createServices } from '../services/index.js';
import { bootstrap } from '../services/orgs.js';
import { createApp } from '../api/app.js';
import { fanoutWidth } from '../api/ops.js';
import { HEARTBEAT_MS } from '../services/fanout.js';

/**
 * The API role: config → deps → Koa server, plus the fan-out sweep that finishes publishes a crash cut short. Runs
 * alone (src/main.ts) or beside the worker in the all-in-one process (src/all-in-one.ts).
 */
export type ApiRole = { port: number; stop(): Promise<void> };

async function prepareDatabase(config: Config, log: Logger, store: Store) {
  // Index creation that does not answer in 30 s is waited for again (said so) rather than sent a second time.
  let indexes: Promise<void> | null = null;
  for (let attempt = 1; ; attempt++) {
    try {
      indexes ??= ensureIndexes(store).catch((err) => {
        indexes = null;
        throw err;
      });
      await withTimeout(30_000, () => indexes!);
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
      if (attempt % 10 === 1 || (err as Error).message.startsWith('no answer')) log.warn({ err: (err as Error).message }, 'MongoDB not ready; retrying');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function withTimeout<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([fn(), late]).finally(() => clearTimeout(timer));
}

export async function startApiRole(deps: { config: Config; log: Logger; store: Store; temporal: Temporal }): Promise<ApiRole> {
  const { config, log, store, temporal } = deps;
  const services = createServices({ config, log, store, temporal, observe: { fanoutWidth: (n) => fanoutWidth.observe(n) } });
  const { publisher } = services;
  const app = createApp({ config, log, services });

  if (config.env === 'development') {
    log.warn('development mode: http:// and private/loopback webhook targets are allowed (ALLOW_HTTP_TARGETS / ALLOW_PRIVATE_TARGETS)');
  }
  await prepareDatabase(config, log, store);

  const server: Server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  log.info({ port }, 'API listening');

  // One sweep at a time (the publisher's start queue also takes its own spilled fan-outs as it empties).
  const sweep = setInterval(() => {
    publisher.sweep(config.fanoutSweep.ageMs).catch((err: Error) => log.debug({ err: err.message }, 'sweep skipped'));
  }, config.fanoutSweep.intervalMs);
  // While this process beats, other API processes' sweeps leave the fan-outs it has queued alone.
  const beat = () => publisher.heartbeat().catch((err: Error) => log.debug({ err: err.message }, 'heartbeat skipped'));
  void beat();
  const beating = setInterval(beat, HEARTBEAT_MS);

  return {
    port,
    // Graceful: stop accepting, let in-flight requests finish, then the queued workflow starts (for up to 10 s;
    // what is left stays in the outbox, and the next sweep of any API process starts it).
    async stop() {
      clearInterval(sweep);
      clearInterval(beating);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      if (!(await publisher.drain(10_000))) log.warn(publisher.queueState(), 'workflow starts left to the fan-out sweep');
    },
  };
}
