// `npm start`: the whole service on the embedded default. Temporal dev server (+ Web UI) and FerretDB keep their
// data under .data/, so a second start finds it again. Ctrl-C stops everything this started.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, startApi, startFerret, startTemporal, startWorker } from './stack.js';
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

async function stopAll(code = 0) {
  console.log('\nhookrelay: stopping…');
  for (const p of [...started].reverse()) await p.stop().catch(() => {});
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  // npm start runs what production runs: the compiled code and the prebuilt workflow bundle.
  if (buildIsStale()) {
    console.log('hookrelay: building (npm run build)…');
    await build();
  }
  console.log('hookrelay: starting Temporal dev server and FerretDB…');
  const [temporal, ferret] = await Promise.all([
    startTemporal({ port: ports.temporal, uiPort: ports.ui, dbFile: join(dataDir, 'temporal.db'), logDir }),
    startFerret({ port: ports.mongo, dataDir: join(dataDir, 'ferretdb'), logDir }),
  ]);
  started.push(temporal, ferret);
  const env = {
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
  console.log('hookrelay: starting API and worker…');
  const api = await startApi({ env, logDir, compiled: true });
  started.push(api);
  const worker = await startWorker({ env, logDir, compiled: true });
  started.push(worker);

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

Ctrl-C stops everything.`);

  // If any part dies, say so and stop the rest rather than leave a half-running stack.
  await Promise.race(started.map((p) => p.exited.then((r) => ({ p, r }))));
  const dead = started.find((p) => !p.running);
  console.error(`hookrelay: ${dead?.name} exited; see ${logDir}/${dead?.name}.log`);
  await stopAll(1);
} catch (err) {
  console.error(`hookrelay: ${err.message}`);
  await stopAll(1);
}
