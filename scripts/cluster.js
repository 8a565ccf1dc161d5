// The production shape, without containers: PostgreSQL (Debian's package), the real Temporal server (not the
// dev server) with PostgreSQL persistence and visibility and several history shards, the Temporal Web UI
// server, FerretDB on PostgreSQL (`--handler=postgresql`) as the MongoDB-wire store, two API processes behind
// a round-robin TCP balancer and two worker processes. Used by `npm run start:cluster`, the cluster test
// profile and `BENCH_PROFILE=cluster`. Versions, namespace retention and search attributes are the ones
// docker-compose.yml uses; test/unit/compose-drift.test.ts fails when the two drift apart.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { freePort, root, SEARCH_ATTRIBUTES, startApi, startWorker, toolsDir, waitForPort } from './stack.js';

/**
 * Store connections (docs/deploy.md): each of the 4 hookrelay processes opens at most PROCESS_MONGO_POOL connections to
 * FerretDB, which serves one command per connection and holds at most one PostgreSQL connection per command while it
 * waits for another; its pool (FERRET_PG_POOL) covers them all plus 20 for open cursors, tools and tests. PostgreSQL's
 * max_connections (300) covers that and Temporal's pools (up to 4 services × 30).
 */
const PROCESS_MONGO_POOL = 25;
const FERRET_PG_POOL = 4 * PROCESS_MONGO_POOL + 20;

export const CLUSTER = {
  temporalServerVersion: '1.29.1',
  temporalUiVersion: '2.42.1',
  namespace: 'default',
  /** How long closed delivery workflows stay in Temporal (the delivery log itself lives in MongoDB). */
  namespaceRetention: '168h',
  historyShards: 4,
  taskQueue: 'hookrelay-deliveries',
  searchAttributes: SEARCH_ATTRIBUTES,
};

/** Highest PostgreSQL found under Debian's layout (/usr/lib/postgresql/<major>/bin). */
export function postgresBin() {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = majors.map((m) => join(base, m, 'bin')).find((b) => existsSync(join(b, 'postgres')));
  if (!bin) throw new Error('PostgreSQL is not installed (scripts/ensure.js installs Debian\'s postgresql package)');
  return bin;
}

/** PostgreSQL refuses to run as root: as root, its processes run as the `postgres` user the package creates. */
function pgUser() {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/** Like stack.js's launch(), with an optional uid/gid; output to <logDir>/<name>.log (mode 0600). */
function launchAs(name, cmd, args, { env = {}, logDir, user = {} }) {
  mkdirSync(logDir, { recursive: true });
  const out = openSync(join(logDir, `${name}.log`), 'a', 0o600);
  // umask 077 around the spawn: what the child creates (FerretDB's state, PostgreSQL's files) is its owner's only.
  let previousUmask = null;
  try {
    previousUmask = process.umask(0o077);
  } catch {
    // a worker thread may not set it: the child keeps the process's umask
  }
  let child;
  try {
    child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', out, out], ...user });
  } finally {
    if (previousUmask !== null) process.umask(previousUmask);
  }
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  return {
    name, child, pid: child.pid, exited,
    get running() { return child.exitCode === null && child.signalCode === null; },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
    },
    kill(signal = 'SIGKILL') { child.kill(signal); return exited; },
  };
}

function chownTree(dir, { uid, gid }) {
  if (uid === undefined) return;
  chownSync(dir, uid, gid);
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) chownTree(p, { uid, gid });
    else chownSync(p, uid, gid);
  }
}

/** True when `user` (a uid/gid pair; {} = this process's user) can reach `dir` (search permission on every ancestor). */
function reachableBy(user, dir) {
  if (user.uid === undefined) return true;
  try {
    execFileSync(process.execPath, ['-e', 'require("fs").accessSync(process.argv[1], require("fs").constants.X_OK)', dir], { stdio: 'ignore', uid: user.uid, gid: user.gid });
    return true;
  } catch {
    return false;
  }
}

/**
 * Where PostgreSQL keeps its data. As root, PostgreSQL runs as the `postgres` user, which must reach the directory:
 * `<dataDir>/postgresql` when it can (the data dir gets search-only permission for others: nothing in it can be
 * listed, and every file is its owner's only), else — the data dir under a directory only root may enter, such as
 * `.data` (0700) or `/root` — a directory of the postgres user's own, named after the data dir:
 * `<postgres home>/hookrelay-<hash>`, 0700. Either way the data belongs to the user PostgreSQL runs as and nobody
 * else can read it.
 */
export function pgDirs(dataDir, user = pgUser()) {
  if (user.uid !== undefined) chmodSync(dataDir, statSync(dataDir).mode | 0o111);
  if (reachableBy(user, dataDir)) return { pgData: join(dataDir, 'postgresql'), socketDir: join(dataDir, 'pg-socket') };
  chmodSync(dataDir, statSync(dataDir).mode & ~0o111 | 0o100);
  const home = execFileSync('getent', ['passwd', 'postgres']).toString().split(':')[5] || '/var/lib/postgresql';
  const base = join(home, `hookrelay-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`);
  mkdirSync(base, { recursive: true, mode: 0o700 });
  chownSync(base, user.uid, user.gid);
  chmodSync(base, 0o700);
  return { pgData: join(base, 'postgresql'), socketDir: join(base, 'pg-socket') };
}

export async function startPostgres({ dataDir, logDir, port }) {
  const bin = postgresBin();
  const user = pgUser();
  const { pgData, socketDir } = pgDirs(dataDir, user);
  if (!pgData.startsWith(dataDir)) console.log(`cluster: PostgreSQL keeps its data in ${pgData} (the postgres user cannot reach ${dataDir})`);
  mkdirSync(pgData, { recursive: true, mode: 0o700 });
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chownTree(pgData, user);
  chownTree(socketDir, user);
  if (!existsSync(join(pgData, 'PG_VERSION'))) {
    // Loopback only, trust auth for the local role: the data directory is this stack's own.
    execFileSync(join(bin, 'initdb'), ['-D', pgData, '-U', 'hookrelay', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], { stdio: 'ignore', ...user });
  }
  const proc = launchAs('postgresql', join(bin, 'postgres'), [
    '-D', pgData, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300',
  ], { logDir, user });
  await waitForPort(port, 60_000);
  // Accepting TCP is not yet accepting queries: wait until the server answers.
  for (let i = 0; ; i++) {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'hookrelay'], { stdio: 'ignore' });
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return Object.assign(proc, { pgData });
}

const sqlTool = () => join(toolsDir, 'temporal-sql-tool');
const temporalSchemaDir = () => join(toolsDir, 'temporal-server-schema', 'postgresql', 'v12');

/** Creates (or migrates) Temporal's two databases and FerretDB's; safe to run on every start. */
export function setupDatabases(pgPort) {
  const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(pgPort), '-u', 'hookrelay'];
  const run = (args) => execFileSync(sqlTool(), [...base, ...args], { stdio: 'pipe' });
  for (const [db, dir] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']]) {
    try {
      run(['--db', db, 'create-database']);
    } catch {
      // exists already
    }
    run(['--db', db, 'setup-schema', '-v', '0.0']);
    run(['--db', db, 'update-schema', '-d', join(temporalSchemaDir(), dir, 'versioned')]);
  }
  try {
    run(['--db', 'ferretdb', 'create-database']);
  } catch {
    // exists already
  }
}

function temporalConfig({ pgPort, ports, dynamicConfigFile }) {
  const store = (db, conns) => `      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "127.0.0.1:${pgPort}"
        connectProtocol: "tcp"
        user: "hookrelay"
        password: ""
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const svc = (name, grpc, membership, extra = '') => `  ${name}:
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${extra}`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${CLUSTER.historyShards}
  datastores:
    postgres-default:
${store('temporal', 20)}
    postgres-visibility:
${store('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:
${svc('frontend', ports.frontend, ports.frontendMembership, `\n      httpPort: ${ports.frontendHttp}`)}
${svc('matching', ports.matching, ports.matchingMembership)}
${svc('history', ports.history, ports.historyMembership)}
${svc('worker', ports.worker, ports.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${ports.frontend}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${dynamicConfigFile}"
  pollInterval: "10s"
`;
}

/** Dynamic config shared with docker-compose.yml (mounted there), so both deployments run the same settings. */
export const DYNAMIC_CONFIG_FILE = join(root, 'deploy', 'temporal', 'dynamicconfig.yaml');

/**
 * A free port below 32768: Temporal's SQL schema stores membership ports as smallint, and the kernel's
 * ephemeral ports (what port 0 gives) start at 32768.
 */
async function freeLowPort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise((res) => {
      const srv = createServer();
      srv.once('error', () => res(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
    });
    if (ok) return port;
  }
}

/** The real Temporal server, all four services in one process (scale each out separately in production). */
export async function startTemporalServer({ dataDir, logDir, pgPort, port }) {
  const ports = { frontend: port };
  for (const k of ['frontendMembership', 'frontendHttp', 'matching', 'matchingMembership', 'history', 'historyMembership', 'worker', 'workerMembership']) {
    ports[k] = await freeLowPort();
  }
  const configDir = join(dataDir, 'temporal-config');
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(configDir, 'cluster.yaml'), temporalConfig({ pgPort, ports, dynamicConfigFile: DYNAMIC_CONFIG_FILE }), { mode: 0o600 });
  // (modes of an older start's files too: mkdirSync and writeFileSync keep an existing one's)
  chmodSync(join(configDir, 'cluster.yaml'), 0o600);
  chmodSync(configDir, 0o700);
  const proc = launchAs('temporal-server', join(toolsDir, 'temporal-server'), [
    '--root', configDir, '--config', '.', '--env', 'cluster', '--allow-no-auth', 'start',
  ], { logDir, env: { TEMPORAL_ROOT: configDir } });
  await waitForPort(port, 120_000);
  return proc;
}

/** Namespace (with production's retention) and hookrelay's search attributes; both idempotent. */
export async function setupNamespace(address) {
  const cli = join(toolsDir, 'temporal');
  const run = (args) => execFileSync(cli, [...args, '--address', address], { stdio: 'pipe' }).toString();
  for (let i = 0; ; i++) {
    try {
      run(['operator', 'cluster', 'health']);
      break;
    } catch (err) {
      if (i > 150) throw new Error(`Temporal server at ${address} is not healthy: ${err.stderr ?? err.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    run(['operator', 'namespace', 'describe', '--namespace', CLUSTER.namespace]);
  } catch {
    run(['operator', 'namespace', 'create', '--namespace', CLUSTER.namespace, '--retention', CLUSTER.namespaceRetention]);
  }
  for (let i = 0; ; i++) {
    try {
      const have = run(['operator', 'search-attribute', 'list', '--namespace', CLUSTER.namespace]);
      for (const sa of CLUSTER.searchAttributes) {
        if (!new RegExp(`(^|\\s)${sa}\\s+Keyword`).test(have)) {
          run(['operator', 'search-attribute', 'create', '--namespace', CLUSTER.namespace, '--name', sa, '--type', 'Keyword']);
        }
      }
      break;
    } catch (err) {
      // A namespace just created takes a moment to reach every service.
      if (i > 100) throw new Error(`could not register search attributes: ${err.stderr ?? err.message}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

export async function startTemporalUi({ logDir, dataDir, port, temporalAddress }) {
  const configDir = join(dataDir, 'temporal-ui-config');
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(configDir, 'cluster.yaml'), `temporalGrpcAddress: ${temporalAddress}
host: 127.0.0.1
port: ${port}
enableUi: true
defaultNamespace: ${CLUSTER.namespace}
cors:
  allowOrigins:
    - http://127.0.0.1:${port}
`, { mode: 0o600 });
  chmodSync(join(configDir, 'cluster.yaml'), 0o600);
  chmodSync(configDir, 0o700);
  const proc = launchAs('temporal-ui', join(toolsDir, 'temporal-ui-server'), ['--root', configDir, '--config', '.', '--env', 'cluster', 'start'], { logDir });
  await waitForPort(port, 60_000);
  return proc;
}

export async function startFerretPg({ dataDir, logDir, port, pgPort }) {
  mkdirSync(join(dataDir, 'ferretdb-state'), { recursive: true, mode: 0o700 });
  chmodSync(join(dataDir, 'ferretdb-state'), 0o700);
  const proc = launchAs('ferretdb', join(toolsDir, 'ferretdb'), [
    // Its PostgreSQL pool is larger than every hookrelay process's MongoDB pool together (FERRET_PG_POOL ≥ 4 ×
    // PROCESS_MONGO_POOL + 20 for cursors, tools and tests): a command waiting for a connection always finds one
    // (docs/deploy.md, "Store connections").
    '--handler=postgresql', `--postgresql-url=postgres://hookrelay@127.0.0.1:${pgPort}/ferretdb?pool_max_conns=${FERRET_PG_POOL}`,
    `--listen-addr=127.0.0.1:${port}`, '--debug-addr=127.0.0.1:0', '--telemetry=disable', '--log-level=warn',
    `--state-dir=${join(dataDir, 'ferretdb-state')}`,
  ], { logDir });
  await waitForPort(port, 30_000);
  return proc;
}

/**
 * A round-robin TCP balancer in front of the API processes: each new connection goes to the next backend that
 * accepts it, so one API process dying leaves the others answering.
 */
export async function startBalancer({ port, backends }) {
  let next = 0;
  // Open connections, so a stop ends them (a kept-alive client connection would hold server.close() for ever).
  const sockets = new Set();
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    // Each connection tries every backend once, from its own starting point: with a shared counter, a connection
    // refused by a dead backend could be sent to it again by the next turn (others' connections moved it on) and be
    // dropped while a live one was there (seen in the cluster tests: "other side closed" after one API was killed).
    const first = next++;
    const tryBackend = (left) => {
      const b = backends[(first + backends.length - left) % backends.length];
      const upstream = createConnection({ host: '127.0.0.1', port: b.port });
      sockets.add(upstream);
      upstream.once('close', () => sockets.delete(upstream));
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', () => {
        upstream.destroy();
        // Refused before connecting: the next backend takes the connection. After: the client sees it close.
        if (!connected && left > 1 && !client.destroyed) tryBackend(left - 1);
        else client.destroy();
      });
      client.on('error', () => upstream.destroy());
    };
    tryBackend(backends.length);
  });
  await new Promise((res) => server.listen(port, '127.0.0.1', res));
  return {
    name: 'balancer', port: server.address().port, pid: process.pid,
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () =>
      new Promise((res) => {
        server.close(() => res());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * Starts the whole cluster profile. `ports` may fix the public ones (api, temporal, ui, mongo); the rest are
 * free ports. Returns the processes (in start order), the URLs, and the env the API and workers run with.
 */
export async function startCluster({ dataDir, logDir, ports = {}, env: extraEnv = {}, apis = 2, workers = 2, ui = true, compiled = false, track = (p) => p }) {
  const p = {
    pg: ports.pg ?? await freePort(), temporal: ports.temporal ?? await freePort(), ui: ports.ui ?? await freePort(),
    mongo: ports.mongo ?? await freePort(), api: ports.api ?? 0,
  };
  const procs = [];
  const add = (proc) => {
    procs.push(track(proc));
    return proc;
  };
  const postgres = add(await startPostgres({ dataDir, logDir, port: p.pg }));
  setupDatabases(p.pg);
  const temporalAddress = `127.0.0.1:${p.temporal}`;
  const [temporal, ferret] = await Promise.all([
    startTemporalServer({ dataDir, logDir, pgPort: p.pg, port: p.temporal }),
    startFerretPg({ dataDir, logDir, port: p.mongo, pgPort: p.pg }),
  ]);
  add(temporal);
  add(ferret);
  await setupNamespace(temporalAddress);
  const uiProc = ui ? add(await startTemporalUi({ logDir, dataDir, port: p.ui, temporalAddress })) : null;
  const env = {
    HOOKRELAY_ENV: 'production',
    MONGODB_URL: `mongodb://127.0.0.1:${p.mongo}/?maxPoolSize=${PROCESS_MONGO_POOL}`,
    MONGODB_DB: 'hookrelay',
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: CLUSTER.namespace,
    TEMPORAL_TASK_QUEUE: CLUSTER.taskQueue,
    ...(ui ? { TEMPORAL_UI_URL: `http://127.0.0.1:${p.ui}` } : {}),
    PORT: '0',
    ...extraEnv,
  };
  const apiProcs = [];
  for (let i = 1; i <= apis; i++) apiProcs.push(add(await startApi({ env, logDir, name: `api-${i}`, compiled })));
  const workerProcs = [];
  // Each worker serves /metrics on its own port: 9464, 9465, … (WORKER_METRICS_PORT=0: any free port).
  const metricsBase = env.WORKER_METRICS_PORT === undefined ? 9464 : Number(env.WORKER_METRICS_PORT);
  for (let i = 1; i <= workers; i++) {
    const port = metricsBase <= 0 ? metricsBase : metricsBase + i - 1;
    workerProcs.push(add(await startWorker({ env: { ...env, WORKER_METRICS_PORT: String(port) }, logDir, name: `worker-${i}`, compiled })));
  }
  const balancer = add(await startBalancer({ port: p.api, backends: apiProcs }));
  return {
    procs, postgres, temporal, ferret, ui: uiProc, apis: apiProcs, workers: workerProcs, balancer, env,
    apiUrl: balancer.url, temporalAddress, temporalUiUrl: ui ? `http://127.0.0.1:${p.ui}` : null,
    mongoUrl: env.MONGODB_URL, pgPort: p.pg, pgData: postgres.pgData,
    /**
     * Stops everything in tiers, each tier at once: the balancer; the APIs and workers (each drains for a moment,
     * SIGKILL after 15 s); FerretDB, the Temporal server and its UI; PostgreSQL last. Bounded (about 30 s at most,
     * a few seconds when idle), where one process after another could take minutes.
     */
    async stop() {
      const tiers = [[balancer], [...apiProcs, ...workerProcs], [ferret, temporal, uiProc], [postgres]];
      for (const tier of tiers) await Promise.all(tier.filter(Boolean).map((proc) => proc.stop().catch(() => {})));
      // Anything added that no tier names (none today) still stops.
      const named = new Set(tiers.flat());
      await Promise.all(procs.filter((proc) => !named.has(proc)).map((proc) => proc.stop().catch(() => {})));
    },
  };
}
