import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
// @ts-expect-error plain JS module shared with npm start
import { freePort, startApi, startFerret, startTemporal, startWorker } from '../../scripts/stack.js';

export type StackInfo = {
  /** which stack the suite runs on: the embedded dev stack, or the cluster profile (scripts/cluster.js) */
  profile: 'embedded' | 'cluster';
  apiUrl: string;
  adminKey: string;
  mongoUrl: string;
  mongoDb: string;
  temporalAddress: string;
  temporalUiUrl: string;
  taskQueue: string;
  dataDir: string;
  logDir: string;
  /** the env the API and worker run with, for tests that start more of them */
  env: Record<string, string>;
};

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

type Proc = { pid: number; stop(): Promise<void> };

/**
 * The isolated test stack: its own ports and throwaway data dir, so it runs beside `npm start`.
 * Real Temporal dev server, real FerretDB, the real API and worker processes.
 */
export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookrelay-test-'));
  const logDir = process.env.HOOKRELAY_TEST_LOG_DIR ?? join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const pidDir = process.env.HOOKRELAY_PID_DIR;
  const procs: Proc[] = [];
  const track = (p: Proc) => {
    procs.push(p);
    if (pidDir) writeFileSync(join(pidDir, String(p.pid)), '');
    return p;
  };
  const [temporalPort, uiPort, mongoPort] = [await freePort(), await freePort(), await freePort()];
  const [temporal, ferret] = await Promise.all([
    startTemporal({ port: temporalPort, uiPort, dbFile: join(dataDir, 'temporal.db'), logDir }),
    startFerret({ port: mongoPort, dataDir: join(dataDir, 'ferretdb'), logDir }),
  ]);
  track(temporal);
  track(ferret);
  const adminKey = `hrk_${randomBytes(24).toString('hex')}`;
  const env = {
    HOOKRELAY_ENV: 'test',
    PORT: '0',
    MONGODB_URL: `mongodb://127.0.0.1:${mongoPort}/`,
    MONGODB_DB: 'hookrelay_test',
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_TASK_QUEUE: 'hookrelay-test',
    ADMIN_KEY: adminKey,
    // Webhook secrets are sealed at rest in the suite too (AES-256-GCM, src/domain/seal.ts).
    HOOKRELAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'info',
    FANOUT_SWEEP_INTERVAL_MS: '1000',
    FANOUT_SWEEP_AGE_MS: '2000',
    API_RATE_LIMIT_PER_S: '1000',
    API_RATE_LIMIT_BURST: '5000',
    // The embedded profile runs the worker fast path, as npm start does; the cluster profile runs the SDK defaults.
    WORKER_FAST_PATH: 'true',
    // Several workers run side by side in the suite: each takes a free port for its /metrics.
    WORKER_METRICS_PORT: '0',
  };
  const api = track(await startApi({ env, logDir })) as Proc & { url: string };
  track(await startWorker({ env, logDir }));

  project.provide('stack', {
    profile: 'embedded',
    apiUrl: api.url,
    adminKey,
    mongoUrl: env.MONGODB_URL,
    mongoDb: env.MONGODB_DB,
    temporalAddress: env.TEMPORAL_ADDRESS,
    temporalUiUrl: `http://127.0.0.1:${uiPort}`,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    dataDir,
    logDir,
    env,
  });

  return async () => {
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    // Logs kept elsewhere (HOOKRELAY_TEST_LOG_DIR) outlive the data dir; the data dir always goes.
    rmSync(dataDir, { recursive: true, force: true });
  };
}
