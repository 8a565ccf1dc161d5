import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseKey } from './domain/seal.js';

// The reader of process.env (tracing's OTEL_* and the CLI's HOOKRELAY_API_URL/KEY aside). Every variable is in
// docs/deploy.md's configuration table (test/unit/config-table.test.ts).
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  HOOKRELAY_ENV: z.enum(['development', 'test', 'production']).default('production'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  MONGODB_URL: z.string().url().default('mongodb://127.0.0.1:27017/'),
  MONGODB_DB: z.string().min(1).default('hookrelay'),
  /** A store call (one document, one page, a batched hot-path command) that gets no answer by then fails: 503, retried. */
  STORE_DEADLINE_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  /** Same for calls that may read or write many documents (lists' finds and counts, updateMany, deleteMany, index builds). */
  STORE_BULK_DEADLINE_MS: z.coerce.number().int().min(1000).max(3600_000).default(300_000),
  /** The worker's store calls (an attempt's record: giving up early means asking again, maybe sending again). */
  WORKER_STORE_DEADLINE_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('hookrelay-deliveries'),
  TEMPORAL_UI_URL: z.string().url().optional(),
  HOOKRELAY_DATA_DIR: z.string().optional(),
  ALLOW_HTTP_TARGETS: bool.optional(),
  ALLOW_PRIVATE_TARGETS: bool.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_EVENT_BYTES: z.coerce.number().int().min(1024).default(256 * 1024),
  /** The API's public base URL, for portal links (default: the origin of the request that made the session). */
  PUBLIC_URL: z.string().url().optional(),
  /** Origins allowed to embed the portal in an iframe (space-separated); none by default. */
  PORTAL_FRAME_ANCESTORS: z.string().regex(/^[A-Za-z0-9:/.*\- ]*$/, 'space-separated origins').optional(),
  PORTAL_SESSION_TTL_S: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
  /** Deliveries leave through this HTTP(S) CONNECT proxy (fixed source IPs); an organization can override it. */
  EGRESS_PROXY_URL: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http:// or https:// proxy URL').optional(),
  /** Events, deliveries, attempts and recoveries older than this are deleted (an organization can override it). */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** How often the retention cleanup runs (a Temporal Schedule). */
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).default(3600_000),
  /** webhook.failing is sent after this many consecutive failed attempts… */
  FAILING_ALERT_AFTER_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(5),
  /** …or after failing (no success) for this long, whichever comes first; once per failing streak. */
  FAILING_ALERT_AFTER_MS: z.coerce.number().int().min(1000).default(3600_000),
  /** delivery.exhausted: at most one at once per webhook in each window this long, then one summary with a count. */
  EXHAUSTED_ALERT_WINDOW_MS: z.coerce.number().int().min(1000).default(300_000),
  /** The worker's Prometheus /metrics port (0: any free port; -1: none). */
  WORKER_METRICS_PORT: z.coerce.number().int().min(-1).max(65535).default(9464),
  WORKER_SDK_METRICS: bool.optional(),
  API_RATE_LIMIT_PER_S: z.coerce.number().min(1).default(200),
  API_RATE_LIMIT_BURST: z.coerce.number().min(1).default(1000),
  API_MAX_BODY_BYTES_IN_FLIGHT: z.coerce.number().int().min(1024 * 1024).default(24 * 1024 * 1024),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).default(200),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(1).default(100),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  WORKER_FAST_PATH: bool.optional(),
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  FANOUT_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
  FANOUT_SWEEP_AGE_MS: z.coerce.number().int().min(0).default(15_000),
  FANOUT_QUEUE_MAX_DELIVERIES: z.coerce.number().int().min(1).default(10_000),
  FANOUT_QUEUE_MAX_BYTES: z.coerce.number().int().min(0).default(16 * 1024 * 1024),
  FANOUT_QUEUE_MAX_WAITING: z.coerce.number().int().min(0).default(50_000),
  FANOUT_START_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
  DEFAULT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /** Connecting to an endpoint (TCP + TLS) gives up after this long, within the attempt's own timeout. */
  ATTEMPT_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** Fairness (docs/architecture.md): a webhook's attempts in flight at once, per worker process, unless it sets `max_in_flight`. */
  WEBHOOK_DEFAULT_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).default(20),
  /** Attempts in flight in one worker process at once (sockets, not task slots: a request outlives its activity). */
  WORKER_MAX_ATTEMPTS_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(2000),
  /** How long an attempt's activity waits for the answer before the request goes on detached (0: always detached). */
  ATTEMPT_INLINE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  AUTO_DISABLE_AFTER_MS: z.coerce.number().int().min(1000).default(5 * 24 * 3600 * 1000),
  ADMIN_KEY: z.string().regex(/^hrk_[A-Za-z0-9]{20,}$/).optional(),
  HOOKRELAY_ENCRYPTION_KEY: z.string().optional(),
  HOOKRELAY_ENCRYPTION_KEYS_OLD: z.string().optional(),
  HOOKRELAY_ENCRYPTION_KEY_FILE: z.string().optional(),
}).superRefine((env, ctx) => {
  try {
    const keys = encryptionKeys(env);
    if (keys.length === 0 && env.HOOKRELAY_ENV === 'production') {
      ctx.addIssue({ code: 'custom', path: ['HOOKRELAY_ENCRYPTION_KEY'], message: 'production needs an encryption key for secrets at rest: HOOKRELAY_ENCRYPTION_KEY or HOOKRELAY_ENCRYPTION_KEY_FILE (32 bytes, base64; `openssl rand -base64 32`)' });
    }
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: ['HOOKRELAY_ENCRYPTION_KEY'], message: (err as Error).message });
  }
});

/**
 * The key ring for secrets at rest, current key first: HOOKRELAY_ENCRYPTION_KEY (+ HOOKRELAY_ENCRYPTION_KEYS_OLD,
 * comma-separated, still accepted for reading), or HOOKRELAY_ENCRYPTION_KEY_FILE (one key per line, current first).
 */
function encryptionKeys(env: { HOOKRELAY_ENCRYPTION_KEY?: string; HOOKRELAY_ENCRYPTION_KEYS_OLD?: string; HOOKRELAY_ENCRYPTION_KEY_FILE?: string }): Buffer[] {
  const lines: string[] = [];
  if (env.HOOKRELAY_ENCRYPTION_KEY) lines.push(env.HOOKRELAY_ENCRYPTION_KEY, ...(env.HOOKRELAY_ENCRYPTION_KEYS_OLD ?? '').split(','));
  else if (env.HOOKRELAY_ENCRYPTION_KEY_FILE) lines.push(...readFileSync(env.HOOKRELAY_ENCRYPTION_KEY_FILE, 'utf8').split('\n'));
  return lines.map((l) => l.trim()).filter(Boolean).map(parseKey);
}

export type Config = ReturnType<typeof toConfig>;

function toConfig(env: z.infer<typeof schema>) {
  const relaxed = env.HOOKRELAY_ENV !== 'production';
  return {
    env: env.HOOKRELAY_ENV,
    port: env.PORT,
    host: env.HOST,
    mongo: { url: env.MONGODB_URL, db: env.MONGODB_DB, deadlines: { opMs: env.STORE_DEADLINE_MS, bulkMs: env.STORE_BULK_DEADLINE_MS }, workerDeadlineMs: env.WORKER_STORE_DEADLINE_MS },
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      uiUrl: env.TEMPORAL_UI_URL,
    },
    dataDir: env.HOOKRELAY_DATA_DIR,
    // Production refuses http and private targets unless the operator says otherwise.
    allowHttpTargets: env.ALLOW_HTTP_TARGETS ?? relaxed,
    allowPrivateTargets: env.ALLOW_PRIVATE_TARGETS ?? relaxed,
    logLevel: env.LOG_LEVEL,
    maxEventBytes: env.MAX_EVENT_BYTES,
    /** null: portal links use the origin the request came to. */
    publicUrl: env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/$/, '') : null,
    egressProxyUrl: env.EGRESS_PROXY_URL ?? null,
    retention: { days: env.RETENTION_DAYS, intervalMs: env.RETENTION_INTERVAL_MS },
    alerts: { failingAfterAttempts: env.FAILING_ALERT_AFTER_ATTEMPTS, failingAfterMs: env.FAILING_ALERT_AFTER_MS, exhaustedWindowMs: env.EXHAUSTED_ALERT_WINDOW_MS },
    workerMetricsPort: env.WORKER_METRICS_PORT,
    /** The Temporal SDK's own metrics (`temporal_*`: slots, task latencies, polls) added to the worker's /metrics. */
    workerSdkMetrics: env.WORKER_SDK_METRICS ?? false,
    portal: { frameAncestors: (env.PORTAL_FRAME_ANCESTORS ?? '').split(' ').filter(Boolean), sessionTtlS: env.PORTAL_SESSION_TTL_S },
    apiRateLimit: { perSecond: env.API_RATE_LIMIT_PER_S, burst: env.API_RATE_LIMIT_BURST },
    /** Request body bytes one process holds at once; over it a request is answered 503 overloaded (one body always passes). */
    apiBodyBytesInFlight: env.API_MAX_BODY_BYTES_IN_FLIGHT,
    worker: {
      maxConcurrentActivities: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
      /** Workflows on the main thread without the SDK's deadlock watchdog and stack-trace hook (src/worker-vm.ts). */
      fastPath: env.WORKER_FAST_PATH ?? false,
      /** A workflow bundle built ahead (npm run build); without it the worker bundles at start. */
      bundlePath: env.WORKFLOW_BUNDLE_PATH,
    },
    fanoutSweep: { intervalMs: env.FANOUT_SWEEP_INTERVAL_MS, ageMs: env.FANOUT_SWEEP_AGE_MS },
    /** Workflow starts a process holds after the 202: whole, then as ids waiting behind (past both, in the outbox only); and how many run at once. */
    fanoutQueue: { maxDeliveries: env.FANOUT_QUEUE_MAX_DELIVERIES, maxBytes: env.FANOUT_QUEUE_MAX_BYTES, maxWaitingDeliveries: env.FANOUT_QUEUE_MAX_WAITING, concurrency: env.FANOUT_START_CONCURRENCY },
    defaultTimeoutMs: env.DEFAULT_TIMEOUT_MS,
    connectTimeoutMs: env.ATTEMPT_CONNECT_TIMEOUT_MS,
    /** docs/architecture.md, "Fairness": every bound is per worker process. */
    fairness: {
      defaultMaxInFlight: env.WEBHOOK_DEFAULT_MAX_IN_FLIGHT,
      maxInFlight: env.WORKER_MAX_ATTEMPTS_IN_FLIGHT,
      inlineMs: env.ATTEMPT_INLINE_MS,
      /** Attempts awaited inline at once (each holds a local-activity and a workflow-task slot meanwhile): a quarter of the slots. */
      maxInline: Math.max(1, Math.floor(Math.min(env.WORKER_MAX_CONCURRENT_ACTIVITIES, env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS) / 4)),
    },
    autoDisableAfterMs: env.AUTO_DISABLE_AFTER_MS,
    adminKey: env.ADMIN_KEY,
    /** Secrets at rest: current key first. Empty only outside production (secrets then stay in plaintext). */
    encryptionKeys: encryptionKeys(env),
  };
}

/** Parses the environment once; on bad config prints every issue and exits (a process that half-starts is worse). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      console.error(`config: ${issue.path.join('.')}: ${issue.message}`);
    }
    process.exit(78);
  }
  return toConfig(parsed.data);
}

/** For tests: parse without exiting. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  return toConfig(schema.parse(env));
}
