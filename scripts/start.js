// `npm start`: the whole service on the embedded default. Temporal dev server (+ Web UI) and FerretDB keep their
// data under .data/, so a second start finds it again. A process that dies is restarted; Ctrl-C stops everything.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePrivate, root, startAllInOne, startFerret, startTemporal } from './stack.js';
import { build, bundleFile, buildIsStale } from './build.js';

const dataDir = process.env.HOOKRELAY_DATA_DIR ?? join(root, '.data');
const logDir = join(dataDir, 'logs');
const ports = {
  api: Number(process.env.PORT ?? 3000),
  temporal: Number(process.env.TEMPORAL_PORT ?? 7233),
  ui: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
  mongo: Number(process.env.FERRETDB_PORT ?? 27017),
};
const started = [];
let stopping = false;

async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\nhookrelay: stopping…');
  for (const p of [...started].reverse()) await p.stop().catch(() => {});
  process.exit(code);
}

/**
 * Keeps one process of the stack running: when it exits (crash, kill -9, OOM) it is started again after a
 * backoff that doubles from 1 s to 30 s and starts over once the process has stayed up for a minute. Only Ctrl-C
 * (or SIGTERM) stops the stack.
 */
async function supervise(name, start) {
  const slot = { proc: await start() };
  started.push({ name, stop: () => slot.proc.stop(), get pid() { return slot.proc.pid; } });
  (async () => {
    let backoffMs = 1000;
    for (;;) {
      const upSince = Date.now();
      const { code, signal } = await slot.proc.exited;
      if (stopping) return;
      if (Date.now() - upSince > 60_000) backoffMs = 1000;
      console.error(`hookrelay: ${name} exited (${signal ?? `code ${code}`}); restarting in ${backoffMs / 1000} s — see ${logDir}/${name}.log`);
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 30_000);
      if (stopping) return;
      try {
        slot.proc = await start();
        console.error(`hookrelay: ${name} is running again (pid ${slot.proc.pid})`);
      } catch (err) {
        console.error(`hookrelay: ${name} did not start: ${err.message}`);
        slot.proc = { exited: Promise.resolve({ code: 1, signal: null }), stop: async () => {}, pid: 0 };
      }
    }
  })();
  return slot;
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  // npm start runs what production runs: the compiled code and the prebuilt workflow bundle.
  if (buildIsStale()) {
    console.log('hookrelay: building (npm run build)…');
    await build();
  }
  // Before anything writes in it: .data 0700, its files 0600 (those of an older start too); .data/cluster is
  // start:cluster's (scripts/cluster.js).
  makePrivate(dataDir, { skip: ['cluster'] });
  console.log('hookrelay: starting Temporal dev server and FerretDB…');
  await Promise.all([
    supervise('temporal', () => startTemporal({ port: ports.temporal, uiPort: ports.ui, dbFile: join(dataDir, 'temporal.db'), logDir })),
    supervise('ferretdb', () => startFerret({ port: ports.mongo, dataDir: join(dataDir, 'ferretdb'), logDir })),
  ]);
  // Webhook secrets are sealed at rest with a key kept beside the data (made once, mode 0600).
  const encryptionKeyFile = join(dataDir, 'encryption-key');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(encryptionKeyFile)) writeFileSync(encryptionKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const env = {
    HOOKRELAY_ENCRYPTION_KEY_FILE: process.env.HOOKRELAY_ENCRYPTION_KEY_FILE ?? encryptionKeyFile,
    HOOKRELAY_ENV: process.env.HOOKRELAY_ENV ?? 'development',
    HOOKRELAY_DATA_DIR: dataDir,
    PORT: String(ports.api),
    MONGODB_URL: `mongodb://127.0.0.1:${ports.mongo}/`,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${ports.ui}`,
    WORKFLOW_BUNDLE_PATH: bundleFile,
    // The embedded single-machine profile runs the measured worker fast path (docs/performance.md).
    WORKER_FAST_PATH: process.env.WORKER_FAST_PATH ?? 'true',
  };
  // One process serves the API and runs the worker (src/all-in-one.ts: eager workflow starts, docs/performance.md).
  console.log('hookrelay: starting hookrelay (API and worker)…');
  await supervise('hookrelay', () => startAllInOne({ env, logDir, compiled: true }));

  const keyFile = join(dataDir, 'admin-key');
  const key = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '(see the first start\'s output)';
  console.log(`
hookrelay is running (${env.HOOKRELAY_ENV} mode${env.HOOKRELAY_ENV === 'development' ? ': http:// and loopback webhook targets are allowed' : ''})

  API            http://127.0.0.1:${ports.api}        (docs: /docs, OpenAPI: /openapi.json, readiness: /readyz)
  Temporal UI    http://127.0.0.1:${ports.ui}        (filter deliveries: HookrelayWebhookId, HookrelayStatus, …)
  Temporal       127.0.0.1:${ports.temporal}
  MongoDB wire   mongodb://127.0.0.1:${ports.mongo}/  (FerretDB, SQLite under ${join(dataDir, 'ferretdb')})
  Admin API key  ${key}   (organization "default"; also in ${keyFile})
  Logs           ${logDir}

A process that dies is restarted (with a backoff); Ctrl-C stops everything.`);
  if (process.send) process.send({ type: 'running', pids: Object.fromEntries(started.map((p) => [p.name, p.pid])) });
} catch (err) {
  console.error(`hookrelay: ${err.message}`);
  await stopAll(1);
}
