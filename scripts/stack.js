// Starts and stops the processes of a hookrelay stack: Temporal dev server, FerretDB, API, worker.
// Shared by `npm start`, the test suite and the benchmark. Plain JS so it runs before TypeScript tooling.
import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { chmodSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const toolsDir = process.env.HOOKRELAY_TOOLS_DIR ?? join(root, '.tools');
export const SEARCH_ATTRIBUTES = ['HookrelayWebhookId', 'HookrelayEventType', 'HookrelayOrgId', 'HookrelayStatus'];

export async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

export async function waitForPort(port, timeoutMs = 60_000, host = '127.0.0.1') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((res) => {
      const s = createConnection({ port, host }, () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// --- Data at rest is its owner's only (issue 24, item 6) -----------------------------------------------------
/**
 * The data directory 0700 and everything in it its owner's only (files 0600, directories 0700), also what an older
 * version left readable; `skip`: entries of the directory itself left alone (another profile's).
 */
export function makePrivate(dir, { skip = [] } = {}) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const walk = (d) => {
    chmodSync(d, 0o700);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (d === dir && skip.includes(e.name)) continue;
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.isFile()) chmodSync(join(d, e.name), 0o600);
    }
  };
  walk(dir);
}

/**
 * spawn() with umask 077: what the child creates (SQLite databases, WAL and shared-memory files, state) is 0600 and
 * its directories 0700, whatever the caller's umask. Set around the spawn only (the child takes it at fork).
 */
function spawnPrivate(cmd, args, options) {
  let previous = null;
  try {
    previous = process.umask(0o077);
  } catch {
    // a worker thread may not set it: the child keeps the process's umask
  }
  try {
    return spawn(cmd, args, options);
  } finally {
    if (previous !== null) process.umask(previous);
  }
}
// ---------------------------------------------------------------------------------------------------------------

/** A child process whose output goes to a log file; stop() sends SIGTERM then SIGKILL. */
export function launch(name, cmd, args, { env = {}, logDir, cwd = root, ipc = false } = {}) {
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  chmodSync(logDir, 0o700);
  // Logs may hold request details: readable by their owner only.
  const file = join(logDir, `${name}.log`);
  const out = openSync(file, 'a', 0o600);
  chmodSync(file, 0o600);
  const child = spawnPrivate(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ipc ? ['ignore', out, out, 'ipc'] : ['ignore', out, out],
  });
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  return {
    name,
    child,
    pid: child.pid,
    exited,
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
    },
    kill(signal = 'SIGKILL') {
      child.kill(signal);
      return exited;
    },
  };
}

export async function startTemporal({ port, uiPort, dbFile, logDir, headless = false }) {
  mkdirSync(dirname(dbFile), { recursive: true, mode: 0o700 });
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', dbFile, '--log-level', 'warn',
    '--namespace', 'default',
    // Workflow tasks of a delivery are tiny; the dev server's defaults are tuned for demos, these for throughput.
    '--dynamic-config-value', 'frontend.rps=20000', '--dynamic-config-value', 'frontend.namespaceRPS=20000',
    '--dynamic-config-value', 'history.rps=20000', '--dynamic-config-value', 'matching.rps=20000',
    // Lets a workflow task hand its activity straight to the same worker (no extra matching round trip).
    '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
    // Task queue fairness (docs/architecture.md, "Fairness"): backlogged workflow tasks are dispatched in turn by
    // their fairness key (the application), so one application's burst or retry wave does not starve another's.
    '--dynamic-config-value', 'matching.enableFairness=true',
    // The CLI turns this on (its own description: not for production); off, every start and upsert no longer
    // re-reads the search attributes' cache from the database (measured: docs/performance.md, issue 14).
    ...(process.env.HOOKRELAY_SA_CACHE_REFRESH === 'true' ? [] : ['--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false']),
    // WAL with synchronous=NORMAL survives a crash or kill -9 of the server (only an OS crash can lose the last
    // transactions) and triples workflow starts per second over the default rollback journal (61 → 174/s here).
    '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];
  // For measuring a lever (docs/performance.md): HOOKRELAY_TEMPORAL_DYNAMIC_CONFIG="key=value,…" and
  // HOOKRELAY_TEMPORAL_SQLITE_PRAGMAS="name=value,…" add dev-server settings; unset, nothing changes.
  for (const kv of (process.env.HOOKRELAY_TEMPORAL_DYNAMIC_CONFIG ?? '').split(',').filter(Boolean)) args.push('--dynamic-config-value', kv);
  for (const kv of (process.env.HOOKRELAY_TEMPORAL_SQLITE_PRAGMAS ?? '').split(',').filter(Boolean)) args.push('--sqlite-pragma', kv);
  for (const sa of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${sa}=Keyword`);
  if (headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', '127.0.0.1');
  const proc = launch('temporal', join(toolsDir, 'temporal'), args, { logDir });
  await waitForPort(port, 90_000);
  if (!headless) await waitForPort(uiPort, 60_000);
  return proc;
}

export async function startFerret({ port, dataDir, logDir }) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const proc = launch('ferretdb', join(toolsDir, 'ferretdb'), [
    '--handler=sqlite', `--sqlite-url=file:${dataDir}/?_pragma=synchronous(normal)`, `--listen-addr=127.0.0.1:${port}`, '--debug-addr=127.0.0.1:0',
    '--telemetry=disable', `--state-dir=${dataDir}`, '--log-level=warn',
  ], { logDir });
  await waitForPort(port, 30_000);
  return proc;
}

// HOOKRELAY_CPU_PROF=<dir> writes a V8 CPU profile of the API and the worker there when they exit (bench analysis).
const prof = process.env.HOOKRELAY_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.HOOKRELAY_CPU_PROF}`] : [];
const tsx = ['--import', 'tsx'];

/**
 * How to run one of hookrelay's processes: compiled (`npm run build` → dist/, what `npm start` and production
 * run) or from source through tsx (tests, bench, development).
 */
const entry = (name, compiled) => [...prof, ...(compiled ? [join(root, 'dist/src', `${name}.js`)] : [...tsx, join(root, 'src', `${name}.ts`)])];

/** API process; resolves once it listens (it reports its port over IPC, so PORT=0 works). */
export async function startApi({ env, logDir, name = 'api', compiled = false }) {
  const proc = launch(name, process.execPath, entry('main', compiled), { env, logDir, ipc: true });
  const port = await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`${name} did not start within 60 s; see ${logDir}/${name}.log`)), 60_000);
    proc.child.on('message', (m) => {
      if (m?.type === 'listening') {
        clearTimeout(t);
        res(m.port);
      }
    });
    proc.exited.then(() => rej(new Error(`${name} exited at start; see ${logDir}/${name}.log`)));
  });
  return Object.assign(proc, { port, url: `http://127.0.0.1:${port}` });
}

export async function startWorker({ env, logDir, name = 'worker', compiled = false }) {
  const proc = launch(name, process.execPath, entry('worker', compiled), { env, logDir, ipc: true });
  const metricsPort = await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`${name} did not start within 120 s; see ${logDir}/${name}.log`)), 120_000);
    proc.child.on('message', (m) => {
      if (m?.type === 'ready') {
        clearTimeout(t);
        res(m.metricsPort ?? null);
      }
    });
    proc.exited.then(() => rej(new Error(`${name} exited at start; see ${logDir}/${name}.log`)));
  });
  return Object.assign(proc, { metricsPort });
}

/**
 * The all-in-one process (src/all-in-one.ts: API and worker in one, eager workflow starts), the embedded default
 * of `npm start`. Resolves once the API listens and the worker runs.
 */
export async function startAllInOne({ env, logDir, name = 'hookrelay', compiled = false }) {
  // V8 grows its heap far past what is live under a burst (measured: ~360 MB RSS with Node's default limit, while
  // the process runs within a 128 MB heap); a 256 MB old space keeps the process under ~300 MB RSS with 2× headroom
  // over that. HOOKRELAY_MAX_HEAP_MB=0 leaves Node's default (docs/performance.md).
  const heapMb = Number(process.env.HOOKRELAY_MAX_HEAP_MB ?? env.HOOKRELAY_MAX_HEAP_MB ?? 256);
  const heap = heapMb > 0 ? [`--max-old-space-size=${heapMb}`] : [];
  const proc = launch(name, process.execPath, [...heap, ...entry('all-in-one', compiled)], { env, logDir, ipc: true });
  const { port, metricsPort } = await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`${name} did not start within 120 s; see ${logDir}/${name}.log`)), 120_000);
    let port = null;
    proc.child.on('message', (m) => {
      if (m?.type === 'listening') port = m.port;
      if (m?.type === 'ready') {
        clearTimeout(t);
        res({ port, metricsPort: m.metricsPort ?? null });
      }
    });
    proc.exited.then(() => rej(new Error(`${name} exited at start; see ${logDir}/${name}.log`)));
  });
  return Object.assign(proc, { port, url: `http://127.0.0.1:${port}`, metricsPort });
}
