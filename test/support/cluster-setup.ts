import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
// @ts-expect-error plain JS module shared with npm run start:cluster
import { startCluster } from '../../scripts/cluster.js';
import type { StackInfo } from './global-setup.js';

export type ClusterInfo = {
  /** each API process's own URL (the stack's apiUrl is the round-robin balancer in front of them) */
  apiUrls: string[];
  apiPids: number[];
  workerPids: number[];
  temporalServerPid: number;
  /** how to start the Temporal server again after a test killed it (same config, same databases) */
  temporalRestart: { cmd: string; args: string[]; env: Record<string, string> };
  temporalLog: string;
  /** FerretDB (the store), and how to start it again after a test killed it (same databases, same port) */
  ferretPid: number;
  ferretRestart: { cmd: string; args: string[]; log: string };
  /** PostgreSQL's data directory (inside the data dir, or the postgres user's own when run as root) */
  pgData: string;
};

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

type Proc = { pid: number; stop(): Promise<void> };

/**
 * The cluster profile under test: PostgreSQL, the real Temporal server, FerretDB on PostgreSQL, two API
 * processes behind a round-robin balancer, two workers — the production shape (HOOKRELAY_ENV=production), with
 * http:// and loopback targets allowed explicitly so the tests' receivers on loopback can be reached.
 */
export default async function setup(project: TestProject) {
  // Nested in a directory only its owner may enter, as `npm run start:cluster` keeps it in `.data/cluster` (`.data`
  // 0700): as root, PostgreSQL (run as the postgres user) cannot reach it there and gets a directory of its own.
  const parentDir = mkdtempSync(join(tmpdir(), 'hookrelay-cluster-'));
  const dataDir = join(parentDir, 'cluster');
  mkdirSync(dataDir, { mode: 0o700 });
  const logDir = process.env.HOOKRELAY_TEST_LOG_DIR ?? join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const pidDir = process.env.HOOKRELAY_PID_DIR;
  const track = (p: Proc) => {
    if (pidDir && p.pid !== process.pid) writeFileSync(join(pidDir, String(p.pid)), '');
    return p;
  };
  const adminKey = `hrk_${randomBytes(24).toString('hex')}`;
  const env = {
    ADMIN_KEY: adminKey,
    HOOKRELAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ALLOW_HTTP_TARGETS: 'true',
    ALLOW_PRIVATE_TARGETS: 'true',
    LOG_LEVEL: 'info',
    MONGODB_DB: 'hookrelay_test',
    FANOUT_SWEEP_INTERVAL_MS: '1000',
    FANOUT_SWEEP_AGE_MS: '2000',
    API_RATE_LIMIT_PER_S: '1000',
    API_RATE_LIMIT_BURST: '5000',
    WORKER_METRICS_PORT: '0',
  };
  const cluster = await startCluster({ dataDir, logDir, env, track, ui: false });
  const temporal = cluster.temporal;
  project.provide('stack', {
    profile: 'cluster',
    apiUrl: cluster.apiUrl,
    adminKey,
    mongoUrl: cluster.mongoUrl,
    mongoDb: env.MONGODB_DB,
    temporalAddress: cluster.temporalAddress,
    temporalUiUrl: '',
    taskQueue: cluster.env.TEMPORAL_TASK_QUEUE,
    dataDir,
    logDir,
    env: cluster.env,
  } satisfies StackInfo);
  project.provide('cluster', {
    apiUrls: cluster.apis.map((a: { url: string }) => a.url),
    apiPids: cluster.apis.map((a: Proc) => a.pid),
    workerPids: cluster.workers.map((w: Proc) => w.pid),
    temporalServerPid: temporal.pid,
    temporalRestart: { cmd: temporal.child.spawnfile, args: temporal.child.spawnargs.slice(1), env: { TEMPORAL_ROOT: join(dataDir, 'temporal-config') } },
    temporalLog: join(logDir, 'temporal-server.log'),
    ferretPid: cluster.ferret.pid,
    pgData: cluster.pgData,
    ferretRestart: { cmd: cluster.ferret.child.spawnfile, args: cluster.ferret.child.spawnargs.slice(1), log: join(logDir, 'ferretdb.log') },
  });
  return async () => {
    await cluster.stop();
    // Logs kept elsewhere (HOOKRELAY_TEST_LOG_DIR) outlive the data dir; the data dir always goes.
    rmSync(parentDir, { recursive: true, force: true });
    if (!cluster.pgData.startsWith(parentDir)) rmSync(dirname(cluster.pgData), { recursive: true, force: true });
  };
}
