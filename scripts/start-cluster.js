// `npm run start:cluster`: the production shape on one machine, without containers (scripts/cluster.js):
// PostgreSQL, the real Temporal server (PostgreSQL persistence + visibility, 4 history shards) and its Web UI,
// FerretDB on PostgreSQL, two API processes behind a round-robin balancer, two workers. Data lives in
// .data/cluster/ so a second start finds it again; Ctrl-C stops everything.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './stack.js';
import { CLUSTER, startCluster } from './cluster.js';
import { build, bundleFile, buildIsStale } from './build.js';

const dataDir = process.env.HOOKRELAY_DATA_DIR ?? join(root, '.data', 'cluster');
const logDir = join(dataDir, 'logs');
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const ports = {
  api: Number(process.env.PORT ?? 3000),
  temporal: Number(process.env.TEMPORAL_PORT ?? 7233),
  ui: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
  mongo: Number(process.env.FERRETDB_PORT ?? 27017),
  pg: Number(process.env.POSTGRES_PORT ?? 55432),
};
// Production mode needs the admin key in advance (ADMIN_KEY): made once, kept in the data dir (mode 0600).
const keyFile = join(dataDir, 'admin-key');
if (!existsSync(keyFile)) writeFileSync(keyFile, `hrk_${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
const adminKey = process.env.ADMIN_KEY ?? readFileSync(keyFile, 'utf8').trim();
// Production seals webhook secrets at rest: the key is made once beside the data (mode 0600).
const encryptionKeyFile = join(dataDir, 'encryption-key');
if (!existsSync(encryptionKeyFile)) writeFileSync(encryptionKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });

let cluster = null;
let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\nhookrelay cluster: stopping…');
  await cluster?.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  if (buildIsStale()) {
    console.log('hookrelay cluster: building (npm run build)…');
    await build();
  }
  console.log('hookrelay cluster: starting PostgreSQL, Temporal server, FerretDB, 2 APIs and 2 workers…');
  const env = {
    ADMIN_KEY: adminKey,
    HOOKRELAY_ENCRYPTION_KEY_FILE: process.env.HOOKRELAY_ENCRYPTION_KEY_FILE ?? encryptionKeyFile,
    // Production runs the compiled code, the prebuilt workflow bundle and the SDK's worker defaults.
    WORKFLOW_BUNDLE_PATH: bundleFile,
    // Production rules apply (https:// targets resolving to public addresses only) unless relaxed explicitly:
    ...(process.env.ALLOW_HTTP_TARGETS ? { ALLOW_HTTP_TARGETS: process.env.ALLOW_HTTP_TARGETS } : {}),
    ...(process.env.ALLOW_PRIVATE_TARGETS ? { ALLOW_PRIVATE_TARGETS: process.env.ALLOW_PRIVATE_TARGETS } : {}),
  };
  cluster = await startCluster({ dataDir, logDir, ports, env, compiled: true });
  console.log(`
hookrelay cluster is running (production mode: https:// targets that resolve to public addresses only)

  API            ${cluster.apiUrl}   (round robin over ${cluster.apis.map((a) => a.url).join(', ')})
  Temporal UI    ${cluster.temporalUiUrl}
  Temporal       ${cluster.temporalAddress}   (server ${CLUSTER.temporalServerVersion}, PostgreSQL, ${CLUSTER.historyShards} history shards)
  MongoDB wire   ${cluster.mongoUrl}   (FerretDB on PostgreSQL 127.0.0.1:${ports.pg})
  Admin API key  in ${keyFile}
  Logs           ${logDir}

Ctrl-C stops everything.`);
  await Promise.race(cluster.procs.filter((p) => p.exited).map((p) => p.exited));
  // A process that ends while Ctrl-C stops the cluster is not news.
  if (!stopping) {
    const dead = cluster.procs.find((p) => p.exited && !p.running);
    console.error(`hookrelay cluster: ${dead?.name} exited; see ${logDir}/${dead?.name}.log`);
    await stopAll(1);
  }
} catch (err) {
  console.error(`hookrelay cluster: ${err.message}`);
  await stopAll(1);
}
