import { newId, ulid, type DeliveryId, type EventId, type OrgId, type WebhookId } from '../domain/ids.js';
import { INLINE_BODY_MAX } from '../domain/limits.js';
import { scheduleToMs } from '../domain/schedule.js';
import { UnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../storage/mongo.js';
import { heartbeat, liveInstances, unfinishedFanouts } from '../storage/repos/events.js';
import { tenant } from '../storage/tenant.js';
import type { DeliveryDoc, EventDoc, WebhookDoc } from '../storage/types.js';
import { fairnessKey } from '../domain/fair-gate.js';
import { FairQueue } from '../domain/fair-queue.js';
import { SPARSE_PRIORITY } from '../temporal.js';
import { deliveryWorkflowId, eachLimit, startDelivery, type Temporal } from '../temporal.js';
import { currentTraceparent } from '../tracing.js';

export type Fanout = ReturnType<typeof createFanout>;

/**
 * The start queue of a process (config `fanoutQueue`): fan-outs whose workflows are to be started after their 202.
 * `maxDeliveries` / `maxBytes` bound the fan-outs held whole (webhooks, inline bodies); `maxWaitingDeliveries` the
 * ones waiting behind them as ids only; `concurrency` the starts in flight.
 */
export type FanoutQueueLimits = { maxDeliveries: number; maxBytes: number; maxWaitingDeliveries: number; concurrency: number };
export const DEFAULT_FANOUT_QUEUE: FanoutQueueLimits = { maxDeliveries: 10_000, maxBytes: 16 * 1024 * 1024, maxWaitingDeliveries: 50_000, concurrency: 64 };

/** Starts of backlogged webhooks in flight at once, at most (sparse ones may use the rest of the concurrency). */
const BACKLOG_CONCURRENCY = 8;
/**
 * … and while sparse starts keep coming (one in the last SPARSE_ACTIVE_MS): a backlog then gets only this many, so
 * the work its starts cause downstream (workflow tasks, attempts, records: CPU of the whole stack) leaves room for
 * the quiet ones' deliveries. A burst alone, with nothing sparse beside it, keeps BACKLOG_CONCURRENCY.
 */
const BACKLOG_CONCURRENCY_SHARED = 2;
const SPARSE_ACTIVE_MS = 2000;
/**
 * A fan-out wider than this is a burst: its starts are never sparse, even to webhooks with nothing queued (a fan-out
 * to 500 endpoints would otherwise put 500 starts in the quiet lane, ahead of a quiet endpoint of the same
 * application: noisy bench, fail fast, A's healthy endpoint 4 of 100).
 */
const SPARSE_FANOUT_MAX = 8;
/** A webhook with at most this many starts queued is not a backlog: its fan-outs may pass the waiting list. */
const QUIET_FLOW_MAX = 8;

/** A silent API process still owns its outbox entries this long (it renews every HEARTBEAT_MS). */
export const HEARTBEAT_MS = 5000;
const OWNER_TIMEOUT_MS = 20_000;

/** A webhook and the id of its delivery record of the event. */
type Pair = { wh: WebhookDoc; d: DeliveryId };
/** A fan-out whose delivery records are stored: what is left is starting their workflows. */
type Plan = {
  /** The event without its body (a queued plan holds only what the starts need). */
  event: Omit<EventDoc, 'body'>;
  /** The body the workflows get in their input; undefined when too large (the activity reads it from MongoDB). */
  body: string | undefined;
  starts: Pair[];
  /** Held records to look at again once the starts are done (a resume may have raced with their insert). */
  held: Pair[];
  traceparent?: string;
};
/** A fan-out waiting behind the queue, by ids only. */
type Waiting = { id: EventId; orgId: OrgId; starts: [WebhookId, DeliveryId][]; held: [WebhookId, DeliveryId][]; traceparent?: string };

/**
 * The second half of a publish: one delivery record and one workflow per webhook an event matched. The event
 * document (with `matched`) and its outbox entry make this restartable: if the process dies half-way, the sweep
 * finishes it, and idempotent workflow ids make a second start a no-op.
 *
 * With a queue (the API), a publish stores the delivery records and hands the workflow starts to this process's
 * start queue: the 202 does not wait for Temporal, so over capacity the API keeps answering at the speed of
 * MongoDB. The queue holds fan-outs whole up to its bounds, then as ids (oldest first either way); past that they
 * wait in the outbox only and the sweep takes them as the queue empties. The outbox entry names this process as
 * its owner: other processes' sweeps leave it alone while this process is alive (a heartbeat every 5 s).
 */
export function createFanout(deps: { store: Store; temporal: Temporal; log: Logger; queue?: FanoutQueueLimits | false }) {
  const { store, temporal, log } = deps;
  const limits = deps.queue === false ? null : (deps.queue ?? DEFAULT_FANOUT_QUEUE);
  const instance = `api_${ulid()}`;

  /** Starts a held delivery whose webhook is active again (as control.release does for a resume's task). */
  async function release(wh: WebhookDoc, id: DeliveryId): Promise<void> {
    const d = await tenant(store, wh.org_id).deliveries.get(id);
    if (!d?.held || d.status !== 'paused') return;
    await tenant(store, wh.org_id).deliveries.markReleased(d._id, null);
    await startDelivery(temporal, {
      orgId: d.org_id, webhookId: d.webhook_id, eventId: d.event_id, deliveryId: d._id, eventType: d.event_type,
      scheduleMs: scheduleToMs(wh.retry_schedule), attemptsBefore: 0,
    }, wh);
  }

  function planOf(event: EventDoc, starts: Pair[], held: Pair[], traceparent?: string): Plan {
    const { body, ...rest } = event;
    return { event: rest, body: body.length <= INLINE_BODY_MAX ? body : undefined, starts, held, traceparent };
  }

  /**
   * Creates the delivery records of an event's matched webhooks (idempotent) and returns what is left to start.
   * `known` are the webhooks just matched by the publish: a fresh event needs neither re-reading them nor
   * looking for deliveries that cannot exist yet.
   */
  async function record(event: EventDoc, known?: WebhookDoc[]): Promise<Plan> {
    const t = tenant(store, event.org_id);
    const webhooks = known ?? (await t.webhooks.byIds(event.matched));
    const now = new Date();
    const existing = known ? [] : await t.deliveries.ofEvent(event._id);
    const byWebhook = new Map<WebhookId, DeliveryDoc>(existing.map((d) => [d.webhook_id, d]));
    const fresh: DeliveryDoc[] = [];
    for (const wh of webhooks) {
      if (byWebhook.has(wh._id)) continue;
      // Nothing matched is dropped: a webhook paused by its owner holds the delivery (released in order on resume);
      // one disabled automatically records it as skipped (a recovery of the period re-delivers it).
      const status = wh.status === 'active' ? 'pending' : wh.disabled_reason === 'user' ? 'paused' : 'skipped';
      const d: DeliveryDoc = {
        _id: newId('dlv'), org_id: event.org_id, application_id: event.application_id ?? null, webhook_id: wh._id, event_id: event._id,
        event_type: event.type, status, held: status !== 'pending', attempt: 0, status_code: null, last_error: null, last_duration_ms: null,
        next_attempt_at: status === 'pending' ? now : null, delivered_at: null, ended_at: status === 'skipped' ? now : null,
        created_at: now, updated_at: now, workflow_id: deliveryWorkflowId(wh._id, event._id),
      };
      fresh.push(d);
      byWebhook.set(wh._id, d);
    }
    if (fresh.length > 0 && (await t.deliveries.insertMany(fresh)) === 'raced') {
      // A racing fan-out inserted some: use whichever record won.
      for (const d of await t.deliveries.ofEvent(event._id)) byWebhook.set(d.webhook_id, d);
    }
    const records = webhooks.map((wh) => ({ wh, d: byWebhook.get(wh._id)! }));
    const pairs = (keep: (d: DeliveryDoc) => boolean) => records.filter(({ d }) => keep(d)).map(({ wh, d }) => ({ wh, d: d._id }));
    // Every held record still paused is looked at again after the starts (release() checks record and webhook).
    return planOf(event, pairs((d) => !d.held), pairs((d) => !!d.held && d.status === 'paused'), currentTraceparent());
  }

  /**
   * Starts one delivery's workflow. `sparse`: nothing else of its webhook waited in the start queue when it was
   * queued — it goes ahead of backlogs at Temporal too (priority 2 instead of the default 3, see "Fairness" in
   * docs/architecture.md), so a quiet endpoint is not held back by a busy one's backlog of tasks.
   */
  async function startOne(plan: Plan, { wh, d }: Pair, sparse = false): Promise<void> {
    const { event } = plan;
    await startDelivery(temporal, {
      orgId: event.org_id, webhookId: wh._id, eventId: event._id, deliveryId: d, eventType: event.type,
      scheduleMs: scheduleToMs(wh.retry_schedule), attemptsBefore: 0, body: plan.body, traceparent: plan.traceparent,
    }, sparse ? { ...wh, priorityKey: SPARSE_PRIORITY } : wh);
  }

  /** After every start of a plan: held records a resume raced with, then the outbox entry. */
  async function finish(plan: Plan): Promise<void> {
    const t = tenant(store, plan.event.org_id);
    // A resume that landed between matching and storing the held records would not have seen them: look again.
    for (const { wh, d } of plan.held) {
      const current = await t.webhooks.get(wh._id);
      if (current?.status === 'active') await release(current, d);
    }
    // Cleanup: an entry left behind is only found again by the sweep (whose start is then a no-op).
    await t.events.outbox.doneSoon(plan.event._id).catch((err) => log.warn({ err, event: plan.event._id }, 'outbox cleanup deferred to the sweep'));
  }

  /** Creates the delivery records and starts the workflows for an event's matched webhooks, before it returns. */
  async function fanout(event: EventDoc, known?: WebhookDoc[]): Promise<void> {
    if (event.matched.length === 0) return;
    await startNow(await record(event, known));
  }

  /** Starts a plan's workflows (16 at a time) and finishes it, before returning. */
  async function startNow(plan: Plan): Promise<void> {
    await eachLimit(plan.starts, 16, async (pair) => startOne(plan, pair));
    await finish(plan);
  }

  // ---- The start queue -------------------------------------------------------------------------------------
  type Job = { plan: Plan; key: string; queued: number; running: number; failed: unknown };
  const jobs: Job[] = [];
  /**
   * Fairness (docs/architecture.md): the starts not yet sent, by application (fairness key) and webhook. They are
   * taken applications in turn and, within one, webhooks in turn, a quiet one first (src/domain/fair-queue.ts): a
   * burst of one application, or of one of its endpoints, does not hold back another's deliveries. And a key with
   * nothing queued or waiting may queue a fan-out past the bound.
   */
  const starts = new FairQueue<{ job: Job; index: number; sparse: boolean }>();
  /** Starts waiting behind the queue (as ids), by webhook. */
  const waitingByWebhook = new Map<string, number>();
  const keyOf = (event: Pick<EventDoc, 'org_id' | 'application_id'>) => fairnessKey(event.org_id, event.application_id);
  const queueStart = (job: Job, index: number, front = false, sparse?: boolean) => {
    const item = { job, index, sparse: sparse ?? false };
    const fresh = starts.push(job.key, job.plan.starts[index].wh._id, item, front, job.plan.starts.length > SPARSE_FANOUT_MAX);
    item.sparse = sparse ?? fresh;
    if (item.sparse) {
      sparseQueued++;
      if (!front) lastSparseAt = Date.now();
    }
    job.queued++;
  };
  /** When a sparse start was last queued (a quiet webhook published): backlogs yield for a while after. */
  let lastSparseAt = 0;
  /** Sparse starts queued, and backlogged starts in flight. */
  let sparseQueued = 0;
  let runningBacklog = 0;
  const countWaiting = (webhooks: [WebhookId, DeliveryId][], n: number) => {
    for (const [key] of webhooks) {
      const v = (waitingByWebhook.get(key) ?? 0) + n;
      if (v <= 0) waitingByWebhook.delete(key);
      else waitingByWebhook.set(key, v);
    }
  };
  const waiting: Waiting[] = [];
  let waitingHead = 0;
  /** Events this process is publishing (their outbox entry exists, their fan-out is not queued yet) … */
  const claimed = new Set<EventId>();
  /** … and those queued (whole or waiting), starting or finishing: the sweep leaves both alone. */
  const queued = new Set<EventId>();
  const busy = (id: EventId) => claimed.has(id) || queued.has(id);
  let queuedDeliveries = 0;
  let queuedBytes = 0;
  let waitingDeliveries = 0;
  let running = 0;
  /** Fan-outs of this process wait in the outbox only (the waiting list was full): the sweep takes them. */
  let spilled = false;
  let spillGen = 0;
  let stopping = false;
  /** Temporal unreachable: no start before this time (backoff doubling from 0.5 s to 30 s). */
  let pausedUntil = 0;
  let backoffMs = 0;
  let pauseSetAt = 0;
  let pauseTimer: NodeJS.Timeout | null = null;
  let idleWaiters: (() => void)[] = [];
  const stats = { queuedTotal: 0, waitedTotal: 0, leftInOutboxTotal: 0, startFailuresTotal: 0 };

  function fits(n: number, bytes: number): boolean {
    // An empty queue takes any one fan-out, however wide: a fan-out is never too big to start at all.
    if (jobs.length === 0) return true;
    return queuedDeliveries + n <= limits!.maxDeliveries && queuedBytes + bytes <= limits!.maxBytes;
  }

  function pump(): void {
    if (!limits) return;
    if (Date.now() < pausedUntil) {
      pauseTimer ??= setTimeout(() => {
        pauseTimer = null;
        pump();
      }, pausedUntil - Date.now());
      pauseTimer.unref();
      return;
    }
    while (running < limits.concurrency) {
      // Starts of backlogged webhooks use at most BACKLOG_CONCURRENCY of the slots: the rest are for sparse ones, which
      // then wait neither for a slot nor behind as many starts at Temporal. (Measured at scale 0.3: 8 deliver a burst
      // as fast as 32 did; 24 delivered batches at a quarter of the speed, their attempts crowding the endpoint's
      // bound: docs/performance.md.)
      const backlogCap = Date.now() - lastSparseAt < SPARSE_ACTIVE_MS ? BACKLOG_CONCURRENCY_SHARED : BACKLOG_CONCURRENCY;
      const backlogFull = runningBacklog >= Math.min(limits.concurrency, backlogCap);
      if (backlogFull && sparseQueued === 0) break;
      const next = starts.shift(backlogFull ? (item) => item.sparse : undefined);
      if (!next) break;
      const { job, index, sparse } = next;
      job.queued--;
      if (sparse) sparseQueued--;
      else runningBacklog++;
      running++;
      job.running++;
      const sentAt = Date.now();
      startOne(job.plan, job.plan.starts[index], sparse)
        .then(
          () => {
            backoffMs = 0;
          },
          (err) => {
            stats.startFailuresTotal++;
            if (err instanceof UnavailableError && !stopping) {
              // Temporal is unreachable: this start is tried again after a pause (the 503s of new publishes
              // meanwhile keep the queue from growing); the outbox entry stays until every start succeeded.
              queueStart(job, index, true, sparse);
              // One outage fails every start in flight at once: only a start sent after the last pause began
              // doubles it (else 32 failures would take it to the cap in one go).
              if (sentAt >= pauseSetAt) {
                backoffMs = Math.min(30_000, Math.max(500, backoffMs * 2));
                pauseSetAt = Date.now();
                pausedUntil = pauseSetAt + backoffMs;
              }
              if (backoffMs >= 4000) log.warn({ err: err.message, retryInMs: backoffMs }, 'workflow starts paused: Temporal unreachable');
            } else {
              job.failed ??= err;
              // The rest of this fan-out is not started here: its outbox entry stays for the sweep.
              let dropped = 0;
              job.queued -= starts.remove((s) => {
                if (s.job !== job) return false;
                if (s.sparse) dropped++;
                return true;
              });
              sparseQueued -= dropped;
            }
          },
        )
        .finally(() => {
          running--;
          if (!sparse) runningBacklog--;
          job.running--;
          settle(job);
          pump();
        });
      if (Date.now() < pausedUntil) break;
    }
  }

  function settle(job: Job): void {
    if (job.running > 0 || job.queued > 0) return;
    const at = jobs.indexOf(job);
    if (at === -1) return;
    jobs.splice(at, 1);
    queuedDeliveries -= job.plan.starts.length;
    queuedBytes -= job.plan.body?.length ?? 0;
    const id = job.plan.event._id;
    (job.failed ? Promise.reject(job.failed) : finish(job.plan))
      .catch((err) => {
        // The outbox entry stays: the sweep starts what is missing (idempotent workflow ids).
        log[err instanceof UnavailableError ? 'warn' : 'error']({ err, event: id }, 'fan-out deferred to the sweep');
      })
      .finally(() => {
        // Busy until the outbox entry is gone: a sweep in between must not take a finished fan-out again.
        queued.delete(id);
        if (jobs.length === 0 && running === 0 && waitingHead >= waiting.length) {
          const waiters = idleWaiters;
          idleWaiters = [];
          waiters.forEach((w) => w());
        }
      });
    void promote();
  }

  /** Queues a plan whole; false (nothing queued) when it does not fit. */
  function enqueue(plan: Plan, force = false): boolean {
    if (!force && !fits(plan.starts.length, plan.body?.length ?? 0)) return false;
    queued.add(plan.event._id);
    const key = keyOf(plan.event);
    const job: Job = { plan, key, queued: 0, running: 0, failed: undefined };
    jobs.push(job);
    for (let i = 0; i < plan.starts.length; i++) queueStart(job, i);
    queuedDeliveries += plan.starts.length;
    queuedBytes += plan.body?.length ?? 0;
    stats.queuedTotal++;
    if (plan.starts.length === 0) settle(job);
    else pump();
    return true;
  }

  let promoting = false;
  /** Moves waiting fan-outs into the queue as it has room (reads each event and its webhooks by id), then the outbox's. */
  async function promote(): Promise<void> {
    if (promoting || !limits) return;
    promoting = true;
    try {
      while (waitingHead < waiting.length && !stopping) {
        const w = waiting[waitingHead];
        if (queuedDeliveries > limits.maxDeliveries / 2 || !fits(w.starts.length, 0)) return;
        let plan: Plan | null;
        try {
          plan = await expand(w);
        } catch (err) {
          // MongoDB unreachable: try again in a second (the waiting fan-out stays first in line).
          log.warn({ err: (err as Error).message, event: w.id }, 'waiting fan-out not read; retrying');
          setTimeout(() => void promote(), 1000).unref();
          return;
        }
        if (stopping) return;
        waitingHead++;
        waitingDeliveries -= w.starts.length;
        countWaiting(w.starts, -1);
        if (waitingHead > 1024 && waitingHead * 2 > waiting.length) {
          waiting.splice(0, waitingHead);
          waitingHead = 0;
        }
        if (plan) enqueue(plan, true);
        else queued.delete(w.id);
      }
      // Nothing waits in memory: this process's fan-outs that went to the outbox only are next.
      if (spilled && !stopping && queuedDeliveries <= limits.maxDeliveries / 2) {
        oneSweep(0, true).catch((err) => log.warn({ err: (err as Error).message }, 'outbox not read; the next sweep tries again'));
      }
    } finally {
      promoting = false;
    }
  }

  async function expand(w: Waiting): Promise<Plan | null> {
    const t = tenant(store, w.orgId);
    const event = await t.events.get(w.id);
    if (!event) return null; // gone (retention): nothing left to start
    const hooks = new Map((await t.webhooks.byIds([...w.starts, ...w.held].map(([wh]) => wh))).map((wh) => [wh._id, wh]));
    // A webhook deleted meanwhile: its deliveries were cancelled with it, nothing to start.
    const pairs = (list: [WebhookId, DeliveryId][]) => list.flatMap(([whId, d]) => (hooks.has(whId) ? [{ wh: hooks.get(whId)!, d }] : []));
    return planOf(event, pairs(w.starts), pairs(w.held), w.traceparent);
  }

  /**
   * The publish's fan-out: stores the delivery records, then queues the starts and returns without waiting for
   * them. Throws only if the records could not be stored (the outbox entry then makes the sweep do it).
   * Without a queue (the worker's operational events), the fan-out is done before it returns.
   */
  async function fanoutQueued(event: EventDoc, known?: WebhookDoc[]): Promise<void> {
    if (event.matched.length === 0) return;
    if (!limits) return fanout(event, known);
    const plan = await record(event, known);
    const n = plan.starts.length;
    // Oldest first: while fan-outs wait, a new one waits behind them…
    if (waitingHead >= waiting.length && !spilled && enqueue(plan)) return;
    // … unless none of its webhooks has a backlog — at most QUIET_FLOW_MAX starts queued, none waiting: then others'
    // backlogs (another application's, or another endpoint's of its own) do not hold it back, and each webhook's
    // order is kept (its starts queue in order in its flow; none of its fan-outs waits behind). Not "none queued":
    // a quiet endpoint publishing while starts are paused (Temporal slow) had one queued, went to the waiting list
    // and, once there, every later event of it too — behind another application's 10,000 (noisy bench, fail fast:
    // B 7 of 100). Up to twice the bound in all, so many quiet endpoints at once still cannot grow the queue
    // without end.
    const key = keyOf(event);
    const quiet = plan.starts.every(({ wh }) => starts.flowSize(key, wh._id) <= QUIET_FLOW_MAX && !waitingByWebhook.has(wh._id));
    if (!stopping && quiet && queuedDeliveries + n <= 2 * limits.maxDeliveries && enqueue(plan, true)) return;
    if (!stopping && waitingDeliveries + n <= limits.maxWaitingDeliveries) {
      queued.add(event._id);
      const ids = plan.starts.map(({ wh, d }): [WebhookId, DeliveryId] => [wh._id, d]);
      countWaiting(ids, 1);
      waiting.push({ id: event._id, orgId: event.org_id, starts: ids, held: plan.held.map(({ wh, d }) => [wh._id, d]), traceparent: plan.traceparent });
      waitingDeliveries += n;
      stats.waitedTotal++;
      void promote();
      return;
    }
    // Past both bounds: the fan-out waits in the outbox only (durable), taken by the sweep as the queue empties.
    stats.leftInOutboxTotal++;
    spilled = true;
    spillGen++;
  }

  /**
   * Marks an event as being published by this process, from before its outbox entry is written until its fan-out is
   * queued (the sweep must not take it meanwhile). Returns the release.
   */
  function claim(id: EventId): () => void {
    if (claimed.has(id)) return () => {};
    claimed.add(id);
    return () => claimed.delete(id);
  }

  let sweeping: Promise<number> | null = null;
  /**
   * Finishes fan-outs the outbox holds: those a crash or an error left unfinished (older than `olderThanMs`; the API
   * runs this on an interval) and this process's own that did not fit its queue (any age). It reads only the
   * outbox, which holds just the fan-outs in progress; it leaves those this process is doing and those of other
   * API processes that are alive. One sweep at a time.
   */
  function sweep(olderThanMs: number): Promise<number> {
    return oneSweep(olderThanMs, false);
  }

  /** The sweep in progress, or a new one: never two at once. */
  function oneSweep(olderThanMs: number, ownOnly: boolean): Promise<number> {
    sweeping ??= sweepOnce(olderThanMs, ownOnly).finally(() => {
      sweeping = null;
    });
    return sweeping;
  }

  /** `ownOnly`: this process's spilled fan-outs only (taken at any age), as its queue empties. */
  async function sweepOnce(olderThanMs: number, ownOnly: boolean): Promise<number> {
    const wasSpilled = spilled;
    const gen = spillGen;
    const cutoff = new Date(Date.now() - olderThanMs);
    // This process's own entries, oldest first: those it is doing come first (they are older than what spilled),
    // so the window is as large as what it can be doing, plus a margin.
    const ownWindow = limits ? jobs.length + (waiting.length - waitingHead) + claimed.size + 1000 : 1000;
    const [own, others, alive] = await Promise.all([
      limits ? unfinishedFanouts(store, ownWindow, { owner: instance, ...(wasSpilled ? {} : { before: cutoff }) }) : Promise.resolve([]),
      ownOnly ? Promise.resolve([]) : unfinishedFanouts(store, 1000, { ...(limits ? { notOwner: instance } : {}), before: cutoff }),
      limits && !ownOnly ? liveInstances(store, OWNER_TIMEOUT_MS) : Promise.resolve(new Set<string>()),
    ]);
    const eligible = [...own, ...others.filter((o) => !(o.owner && alive.has(o.owner)))].filter((o) => !busy(o._id as EventId));
    let taken = 0;
    let errors = 0;
    let full = false;
    for (const entry of eligible) {
      if (stopping || errors >= 3) break;
      if (limits && !fits(1, 0)) {
        full = true;
        break;
      }
      const id = entry._id as EventId;
      if (busy(id)) continue;
      const t = tenant(store, entry.org_id);
      const release = claim(id);
      try {
        const event = await t.events.get(id);
        if (event) {
          if (limits && !fits(event.matched.length, 0)) {
            full = true;
            break;
          }
          const plan = await record(event);
          if (!limits) await startNow(plan);
          else if (!enqueue(plan)) {
            full = true;
            break;
          }
          taken++;
        } else if (Date.now() - entry.created_at.getTime() > 60_000) {
          // The process died between the outbox entry and the event: that event was never acknowledged.
          await t.events.outbox.done(entry._id);
        }
      } catch (err) {
        // This one is skipped this round; the others go on.
        errors++;
        log.warn({ err, event: entry._id }, 'fan-out sweep failed; will retry');
      } finally {
        release();
      }
    }
    // Every spilled fan-out of this process is queued (and none spilled meanwhile): new publishes queue directly again.
    if (wasSpilled && !full && errors === 0 && !stopping && gen === spillGen) spilled = false;
    if (taken) log.info({ count: taken }, 'fan-out sweep queued unfinished fan-outs');
    return taken;
  }

  /** The API process's heartbeat: while it beats, other processes' sweeps leave its outbox entries alone. */
  function beat(): Promise<void> {
    return heartbeat(store, instance);
  }

  /** Waits until the start queue is empty, or `timeoutMs` (what is left then stays in the outbox for the sweep). */
  async function drain(timeoutMs: number): Promise<boolean> {
    stopping = true;
    // Waiting fan-outs are not read any more: they stay in the outbox for the next process's sweep.
    for (let i = waitingHead; i < waiting.length; i++) queued.delete(waiting[i].id);
    waiting.length = 0;
    waitingByWebhook.clear();
    waitingHead = 0;
    waitingDeliveries = 0;
    if (jobs.length === 0 && running === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => idleWaiters.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await Promise.race([idle, late]);
    clearTimeout(timer);
    return ok;
  }

  const queueState = () => ({
    deliveries: queuedDeliveries, bytes: queuedBytes, events: jobs.length, running, waitingDeliveries, waitingEvents: waiting.length - waitingHead, spilled, ...stats,
  });

  return { fanout, fanoutQueued, claim, isBusy: busy, sweep, beat, drain, queueState, instance: limits ? instance : undefined };
}
