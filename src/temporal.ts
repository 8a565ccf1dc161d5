import type { NativeConnection } from '@temporalio/worker';
import { Client, Connection, ScheduleAlreadyRunning, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { UnavailableError } from './errors.js';
import { fairnessKey } from './domain/fair-gate.js';
import { SA_EVENT_TYPE, SA_ORG_ID, SA_STATUS, SA_WEBHOOK_ID } from './domain/search-attributes.js';
import type { DeliveryInput } from '../workflows/types.js';
import type { Config } from './config.js';
import { createRequire } from 'node:module';
import { currentTraceparent, tracingEnabled } from './tracing.js';

export type Temporal = {
  client: Client;
  connection: Connection | NativeConnection;
  taskQueue: string;
  /**
   * True once workflows are started over a worker's connection in this process (the all-in-one process): delivery
   * starts then ask for an eager start, and the server hands the first workflow task back in the start's answer
   * instead of through a task-queue poll (measured in docs/performance.md).
   */
  eager: boolean;
  /** Delivery workflows this process started, and how many of them the server started eagerly. */
  starts: { total: number; eager: number };
  /**
   * Starts workflows over `native` from now on, with eager starts (see `eager`): the server hands the first task
   * straight back when the worker has a free workflow task slot, else it goes through the task queue (costlier).
   */
  useWorkerConnection(native: NativeConnection): void;
  ping(): Promise<void>;
  /** Throws UnavailableError unless Temporal answered a ping within the last second (cached). */
  requireUp(): Promise<void>;
  close(): Promise<void>;
};

/** A lazy connection: the API starts (and answers 503) while Temporal is down, and heals when it is back. */
export function openTemporal(config: Config): Temporal {
  const connection = Connection.lazy({ address: config.temporal.address });
  // With tracing on, Temporal's OpenTelemetry client interceptor traces each workflow start and carries the context
  // in its headers (loaded only then: without tracing nothing of OpenTelemetry's SDK is loaded).
  const interceptors = tracingEnabled()
    ? { workflow: [new (createRequire(import.meta.url)('@temporalio/interceptors-opentelemetry').OpenTelemetryWorkflowClientInterceptor)()] }
    : undefined;
  const client = new Client({ connection, namespace: config.temporal.namespace, interceptors });
  const ping = () =>
    t.connection.withDeadline(Date.now() + 2000, async () => {
      await t.connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
    });
  let last: { at: number; up: boolean } = { at: 0, up: false };
  let inflight: Promise<boolean> | null = null;
  const t: Temporal = {
    client,
    connection,
    taskQueue: config.temporal.taskQueue,
    eager: false,
    starts: { total: 0, eager: 0 },
    useWorkerConnection(native) {
      const lazy = t.connection;
      t.client = new Client({ connection: native, namespace: config.temporal.namespace, interceptors });
      t.connection = native;
      t.eager = true;
      // Calls already under way on the lazy connection finish first; the worker's connection is closed by its owner.
      setTimeout(() => void (lazy as Connection).close().catch(() => {}), 10_000).unref();
    },
    ping,
    async requireUp() {
      if (Date.now() - last.at > 1000) {
        inflight ??= ping().then(() => true, () => false).then((up) => {
          last = { at: Date.now(), up };
          inflight = null;
          return up;
        });
        await inflight;
      }
      if (!last.up) throw new UnavailableError('temporal');
    },
    // The worker's connection (after useWorkerConnection) belongs to the worker role, which closes it.
    close: () => (t.connection === connection ? connection.close() : Promise.resolve()),
  };
  return t;
}

export const deliveryWorkflowId = (webhookId: string, eventId: string) => `delivery/${webhookId}/${eventId}`;

function isTemporalUnavailable(err: unknown): boolean {
  // The client wraps the gRPC error: `ServiceError: Failed to start Workflow`, its status in `cause` (seen under
  // load: DEADLINE_EXCEEDED there was taken for a hard failure, and the rest of the fan-out went to the sweep).
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (isUnavailableStatus(e)) return true;
  }
  return false;
}

function isUnavailableStatus(err: unknown): boolean {
  const e = err as { code?: number; name?: string; message?: string };
  // gRPC UNAVAILABLE (14) / DEADLINE_EXCEEDED (4) / RESOURCE_EXHAUSTED (8: the server sheds load, e.g. a namespace's
  // rate limit or "system busy" — retry later, the call had no effect), or the transport failing to connect at all.
  return e?.code === 14 || e?.code === 4 || e?.code === 8 || /UNAVAILABLE|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|connect|transport/i.test(`${e?.name} ${e?.message}`);
}

/** Runs a Temporal call with a deadline, turning "Temporal is gone" into the API's 503. */
export async function temporalCall<T>(t: Temporal, fn: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  try {
    return await t.connection.withDeadline(Date.now() + timeoutMs, fn);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError || err instanceof WorkflowNotFoundError) throw err;
    if (isTemporalUnavailable(err)) throw new UnavailableError('temporal', err);
    throw err;
  }
}

/** The active trace context rides along in the workflow input, so each attempt joins the publish's trace. */
function withTrace(input: DeliveryInput): DeliveryInput {
  const traceparent = input.traceparent ?? currentTraceparent();
  return traceparent ? { ...input, traceparent } : input;
}

/** Where a delivery goes: its URL (shown in the Temporal UI) and whose share of dispatch it takes (fairness key). */
export type DeliveryTarget = { url: string; org_id: string; application_id?: string | null; priorityKey?: number };

/**
 * Temporal priority (1 first … 5 last; 3 by default) of a delivery whose endpoint had no backlog in the start queue
 * (services/fanout.ts): its tasks go ahead of backlogged ones, and task queue fairness shares each level by application.
 */
export const SPARSE_PRIORITY = 2;

function deliveryStartOptions(t: Temporal, input: DeliveryInput, target: DeliveryTarget) {
  const { url } = target;
  return {
    taskQueue: t.taskQueue,
    // Task queue fairness (docs/architecture.md, "Fairness"): the server dispatches the backlogged workflow tasks
    // of each application (or organization-level webhooks) in turn, so one's burst or retry wave cannot starve
    // another's. The workflow's tasks all carry it (timers, signals).
    priority: { fairnessKey: fairnessKey(target.org_id, target.application_id), ...(target.priorityKey ? { priorityKey: target.priorityKey } : {}) },
    workflowId: deliveryWorkflowId(input.webhookId, input.eventId),
    args: [withTrace(input)] as [DeliveryInput],
    memo: { url, delivery_id: input.deliveryId },
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SA_WEBHOOK_ID, value: input.webhookId },
      { key: SA_EVENT_TYPE, value: input.eventType },
      { key: SA_ORG_ID, value: input.orgId },
      { key: SA_STATUS, value: 'pending' },
    ]),
  };
}

/** Starts the first run of a delivery; a second start of the same (webhook, event) is a no-op, never a resend. */
export async function startDelivery(t: Temporal, input: DeliveryInput, target: DeliveryTarget): Promise<void> {
  try {
    const handle = await temporalCall(t, () =>
      t.client.workflow.start('deliveryWorkflow', {
        ...deliveryStartOptions(t, input, target),
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        requestEagerStart: t.eager,
      }),
    );
    t.starts.total++;
    if (handle.eagerlyStarted) t.starts.eager++;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw err;
  }
}

/**
 * Attempts again now: signals a running delivery, or starts a new run of the same workflow id if it ended.
 * (Not signalWithStart: a new run would also receive the signal and, if its first attempt failed, attempt twice.)
 */
export async function redeliver(
  t: Temporal, input: DeliveryInput, target: DeliveryTarget, fresh?: () => Promise<Pick<DeliveryInput, 'attemptsBefore' | 'scheduleMs'>>,
): Promise<void> {
  const handle = t.client.workflow.getHandle(deliveryWorkflowId(input.webhookId, input.eventId));
  for (let round = 0; round < 3; round++) {
    try {
      await temporalCall(t, () => handle.signal('retryNow'));
      return;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    try {
      // The run has ended: its last attempt is recorded now, so the new run counts on from there (`fresh`: the
      // count read before the signal may be one short if that attempt was in flight) and reuses no attempt number.
      const next = fresh ? { ...input, ...(await fresh()) } : input;
      await temporalCall(t, () =>
        t.client.workflow.start('deliveryWorkflow', { ...deliveryStartOptions(t, next, target), workflowIdReusePolicy: 'ALLOW_DUPLICATE' }),
      );
      return;
    } catch (err) {
      // Another request started it in between: signal that run instead.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
}

/** Signals a delivery if it is still running; an ended one needs nothing. */
export async function signalDelivery(t: Temporal, webhookId: string, eventId: string, signal: 'pause' | 'resume' | 'cancel'): Promise<void> {
  try {
    await temporalCall(t, () => t.client.workflow.getHandle(deliveryWorkflowId(webhookId, eventId)).signal(signal));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return;
    throw err;
  }
}

/** Signals one run of a workflow (the worker's fairness wake-ups and detached attempts' outcomes). */
export async function signalRun(t: Temporal, workflowId: string, runId: string, name: string, arg?: unknown): Promise<void> {
  const handle = t.client.workflow.getHandle(workflowId, runId);
  await temporalCall(t, () => (arg === undefined ? handle.signal(name) : handle.signal(name, arg)));
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

/** One schedule per deployment (task queue): `hookrelay-retention/<task queue>`. */
export const retentionScheduleId = (taskQueue: string) => `hookrelay-retention/${taskQueue}`;

/**
 * The Temporal Schedule that runs the retention cleanup (workflows/retention.ts) every `intervalMs`; created once,
 * its interval brought up to date on later starts. Overlapping runs are skipped.
 */
export async function ensureRetentionSchedule(t: Temporal, intervalMs: number): Promise<void> {
  const RETENTION_SCHEDULE_ID = retentionScheduleId(t.taskQueue);
  const spec = { intervals: [{ every: intervalMs }] };
  const action = { type: 'startWorkflow' as const, workflowType: 'retentionWorkflow', taskQueue: t.taskQueue, args: [{}] };
  try {
    await temporalCall(t, () => t.client.schedule.create({ scheduleId: RETENTION_SCHEDULE_ID, spec, action, policies: { overlap: 'SKIP' } }));
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await temporalCall(t, () => t.client.schedule.getHandle(RETENTION_SCHEDULE_ID).update((prev) => ({ ...prev, spec, action })));
  }
}

/**
 * Temporal keeps closed workflows' histories for the namespace's retention: set it to hookrelay's retention, so a
 * delivery's workflow history and its record in MongoDB are kept alike.
 */
export async function ensureNamespaceRetention(t: Temporal, namespace: string, days: number): Promise<'set' | 'unchanged'> {
  const seconds = days * 24 * 3600;
  const ns = await temporalCall(t, () => t.connection.workflowService.describeNamespace({ namespace }));
  const current = Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  if (current === seconds) return 'unchanged';
  await temporalCall(t, () =>
    t.connection.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: { seconds } },
      updateMask: { paths: ['config.workflow_execution_retention_ttl'] },
    } as never),
  );
  return 'set';
}
