import type { Config } from '../src/config.js';
import type { Logger } from '../src/log.js';
import type { Control } from '../src/services/control.js';
import type { Recoveries } from '../src/services/recoveries.js';
import type { HealthRecorder } from '../src/services/health.js';
import type { Store } from '../src/storage/mongo.js';
import type { Sender } from './http.js';
import type { FairGate } from '../src/domain/fair-gate.js';
import type { DeliveryMetrics } from './metrics.js';

/** What the activities are given by the worker (never module-level singletons). */
export type ActivityDeps = {
  store: Store;
  sender: Sender;
  config: Config;
  log: Logger;
  control: Control;
  recoveries: Recoveries;
  /** The webhooks' health summaries, kept in memory and written once a second (the worker flushes it on shutdown). */
  health?: HealthRecorder;
  /** The process's fairness gate (made by the attempt activity when absent). */
  gate?: FairGate;
  /** Signals a workflow run (the gate's wake-up, a detached attempt's outcome); absent: the workflows' backstops do. */
  signal?: (workflowId: string, runId: string, name: string, arg?: unknown) => Promise<void>;
  /** Prometheus metrics of the worker process (absent in tests that build activities alone). */
  metrics?: DeliveryMetrics;
};
