import { newId, type EventId, type WebhookId } from '../domain/ids.js';
import { INLINE_BODY_MAX } from '../domain/limits.js';
import { scheduleToMs } from '../domain/schedule.js';
import type { Logger } from '../log.js';
import type { Store } from '../storage/mongo.js';
import { unfinishedFanouts } from '../storage/repos/events.js';
import { tenant } from '../storage/tenant.js';
import type { DeliveryDoc, EventDoc, WebhookDoc } from '../storage/types.js';
import { deliveryWorkflowId, eachLimit, startDelivery, type Temporal } from '../temporal.js';
import { UnavailableError } from '../errors.js';

export type Fanout = ReturnType<typeof createFanout>;

/** How many workflow starts a process queues and runs at once (config `fanoutQueue`). */
export type FanoutQueueLimits = { maxDeliveries: number; maxBytes: number; concurrency: number };
export const DEFAULT_FANOUT_QUEUE: FanoutQueueLimits = { maxDeliveries: 10_000, maxBytes: 16 * 1024 * 1024, concurrency: 32 };

/** A fan-out whose delivery records are stored: what is left is starting their workflows. */
type Plan = {
  /** The event without its body (a queued plan holds only what the starts need). */
  event: Omit<EventDoc, 'body'>;
  /** The body the workflows get in their input; undefined when too large (the activity reads it from MongoDB). */
  body: string | undefined;
  starts: { wh: WebhookDoc; d: DeliveryDoc }[];
  held: { wh: WebhookDoc; d: DeliveryDoc }[];
};

/**
 * The second half of a publish: one delivery record and one workflow per webhook an event matched. The event
 * document (with `matched`) and its outbox entry make this restartable: if the process dies half-way, the sweep
 * finishes it, and idempotent workflow ids make a second start a no-op.
 *
 * A publish stores the delivery records and hands the workflow starts to this process's start queue: the 202 does
 * not wait for Temporal, so over capacity the API keeps answering at the speed of MongoDB and the outbox is the
 * durable queue. The queue is bounded (deliveries and body bytes); a fan-out that does not fit stays in the outbox
 * and is taken from there, oldest first, as the queue empties.
 */
export function createFanout(deps: { store: Store; temporal: Temporal; log: Logger; queue?: FanoutQueueLimits }) {
  const { store, temporal, log } = deps;
  const limits = deps.queue ?? DEFAULT_FANOUT_QUEUE;

  /** Starts a held delivery whose webhook is active again (as control.release does for a resume's task). */
  async function release(wh: WebhookDoc, d: DeliveryDoc): Promise<void> {
    const current = await tenant(store, wh.org_id).deliveries.get(d._id);
    if (!current?.held || current.status !== 'paused') return;
    await tenant(store, wh.org_id).deliveries.markReleased(d._id, null);
    await startDelivery(temporal, {
      orgId: d.org_id, webhookId: d.webhook_id, eventId: d.event_id, deliveryId: d._id, eventType: d.event_type,
      scheduleMs: scheduleToMs(wh.retry_schedule), attemptsBefore: 0,
    }, wh.url);
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
    const heldNow: { wh: WebhookDoc; d: DeliveryDoc }[] = [];
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
      if (status === 'paused') heldNow.push({ wh, d });
    }
    if (fresh.length > 0 && (await t.deliveries.insertMany(fresh)) === 'raced') {
      // A racing fan-out inserted some: use whichever record won.
      for (const d of await t.deliveries.ofEvent(event._id)) byWebhook.set(d.webhook_id, d);
    }
    const starts = webhooks.map((wh) => ({ wh, d: byWebhook.get(wh._id)! })).filter(({ d }) => !d.held);
    const { body, ...rest } = event;
    return { event: rest, body: body.length <= INLINE_BODY_MAX ? body : undefined, starts, held: heldNow.filter(({ wh, d }) => byWebhook.get(wh._id)!._id === d._id) };
  }

  async function startOne(plan: Plan, wh: WebhookDoc, d: DeliveryDoc): Promise<void> {
    const { event } = plan;
    await startDelivery(temporal, {
      orgId: event.org_id, webhookId: wh._id, eventId: event._id, deliveryId: d._id, eventType: event.type,
      scheduleMs: scheduleToMs(wh.retry_schedule), attemptsBefore: 0, body: plan.body,
    }, wh.url);
  }

  /** After every start of a plan: held records a resume raced with, then the outbox entry. */
  async function finish(plan: Plan): Promise<void> {
    const t = tenant(store, plan.event.org_id);
    // A resume that landed between matching and storing the held records would not have seen them: look again.
    for (const { wh, d } of plan.held) {
      const current = await t.webhooks.get(wh._id);
      if (current?.status === 'active') await release(current, d);
    }
    // The fan-out is done; removing its entry is cleanup nothing waits for (the sweep removes leftovers).
    t.events.outbox.doneSoon(plan.event._id).catch((err) => log.warn({ err, event: plan.event._id }, 'outbox cleanup deferred to the sweep'));
  }

  /** Creates the delivery records and starts the workflows for an event's matched webhooks, before it returns. */
  async function fanout(event: EventDoc, known?: WebhookDoc[]): Promise<void> {
    if (event.matched.length === 0) return;
    const plan = await record(event, known);
    await eachLimit(plan.starts, 16, async ({ wh, d }) => startOne(plan, wh, d));
    await finish(plan);
  }

  // ---- The start queue -------------------------------------------------------------------------------------
  type Job = { plan: Plan; next: number; running: number; failed: unknown };
  const jobs: Job[] = [];
  /** Events this process is publishing (their outbox entry exists, their fan-out is not queued yet) … */
  const claimed = new Set<EventId>();
  /** … and those whose starts are queued or running: the sweep leaves both alone. */
  const queued = new Set<EventId>();
  const busy = (id: EventId) => claimed.has(id) || queued.has(id);
  /** Bumped each time a fan-out is left in the outbox for want of room. */
  let overflowGen = 0;
  let queuedDeliveries = 0;
  let queuedBytes = 0;
  let running = 0;
  /** A fan-out was left in the outbox for want of room: take it from there when room comes back. */
  let overflowed = false;
  let idleWaiters: (() => void)[] = [];
  const stats = { queuedTotal: 0, leftInOutboxTotal: 0, startFailuresTotal: 0 };

  function fits(plan: Plan): boolean {
    const n = plan.starts.length;
    // An empty queue takes any one fan-out, however wide: a fan-out is never too big to start at all.
    if (jobs.length === 0 && running === 0) return true;
    return queuedDeliveries + n <= limits.maxDeliveries && queuedBytes + (plan.body?.length ?? 0) <= limits.maxBytes;
  }

  function pump(): void {
    while (running < limits.concurrency) {
      const job = jobs.find((j) => j.next < j.plan.starts.length && !j.failed);
      if (!job) break;
      const { wh, d } = job.plan.starts[job.next++];
      running++;
      job.running++;
      startOne(job.plan, wh, d)
        .catch((err) => {
          stats.startFailuresTotal++;
          job.failed ??= err;
        })
        .finally(() => {
          running--;
          job.running--;
          settle(job);
          pump();
        });
    }
  }

  function settle(job: Job): void {
    if (job.running > 0 || (job.next < job.plan.starts.length && !job.failed)) return;
    jobs.splice(jobs.indexOf(job), 1);
    queuedDeliveries -= job.plan.starts.length;
    queuedBytes -= job.plan.body?.length ?? 0;
    const done = job.failed
      ? Promise.reject(job.failed)
      : finish(job.plan);
    done
      .catch((err) => {
        // The outbox entry stays: the sweep starts what is missing (idempotent workflow ids).
        log[err instanceof UnavailableError ? 'warn' : 'error']({ err, event: job.plan.event._id }, 'fan-out deferred to the sweep');
      })
      .finally(() => {
        queued.delete(job.plan.event._id);
        if (jobs.length === 0 && running === 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          waiters.forEach((w) => w());
        }
        if (overflowed && queuedDeliveries <= limits.maxDeliveries / 2) void refill();
      });
  }

  function overflow(): void {
    stats.leftInOutboxTotal++;
    overflowGen++;
    overflowed = true;
  }

  /** Queues a plan's starts; false (nothing queued) when the queue is full. */
  function enqueue(plan: Plan): boolean {
    const id = plan.event._id;
    if (plan.starts.length === 0) {
      queued.add(id);
      void finish(plan)
        .catch((err) => log.warn({ err, event: id }, 'fan-out deferred to the sweep'))
        .finally(() => queued.delete(id));
      return true;
    }
    if (!fits(plan)) return false;
    queued.add(id);
    jobs.push({ plan, next: 0, running: 0, failed: undefined });
    queuedDeliveries += plan.starts.length;
    queuedBytes += plan.body?.length ?? 0;
    stats.queuedTotal++;
    pump();
    return true;
  }

  /**
   * The publish's fan-out: stores the delivery records, then queues the starts and returns without waiting for
   * them. Throws only if the records could not be stored (the outbox entry then makes the sweep do it).
   */
  async function fanoutQueued(event: EventDoc, known?: WebhookDoc[]): Promise<void> {
    if (event.matched.length === 0) return;
    const plan = await record(event, known);
    // While fan-outs wait in the outbox, new ones wait behind them there: oldest first.
    if (overflowed || !enqueue(plan)) overflow();
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
  let refillTimer: NodeJS.Timeout | null = null;
  /** Queues fan-outs left in the outbox for want of room. */
  function refill(): void {
    if (sweeping || refillTimer) return;
    void sweep(0);
  }

  /**
   * Finishes fan-outs the outbox holds: those a crash left half-done (older than `olderThanMs`; the API process
   * runs this on an interval), and those the start queue had no room for (any age). It reads only the outbox, which
   * holds just the fan-outs in progress, and skips those this process is doing. One sweep at a time.
   */
  function sweep(olderThanMs: number): Promise<number> {
    if (sweeping) return sweeping;
    let failed = false;
    sweeping = sweepOnce(olderThanMs)
      .catch((err) => {
        failed = true;
        throw err;
      })
      .finally(() => {
        sweeping = null;
        // Fan-outs were left in the outbox while this one read it: go on (after a pause if the database failed).
        if (overflowed && queuedDeliveries <= limits.maxDeliveries / 2 && !refillTimer) {
          refillTimer = setTimeout(() => {
            refillTimer = null;
            refill();
          }, failed ? 1000 : 0);
          refillTimer.unref();
        }
      });
    return sweeping;
  }

  async function sweepOnce(olderThanMs: number): Promise<number> {
    // Fan-outs that did not fit are taken at any age; those of a crash only once they are old enough not to be
    // another process's publish in progress (if it is, both start the same workflow ids: one start wins).
    const gen = overflowGen;
    const wasOverflowed = overflowed;
    const cutoff = Date.now() - (wasOverflowed ? 0 : olderThanMs);
    const entries = (await unfinishedFanouts(store, limits.maxDeliveries + 1000))
      .filter((o) => o.created_at.getTime() <= cutoff && !busy(o._id as EventId))
      .sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
    let taken = 0;
    let full = false;
    for (const entry of entries) {
      const id = entry._id as EventId;
      if (busy(id)) continue;
      const t = tenant(store, entry.org_id);
      const release = claim(id);
      try {
        const event = await t.events.get(id);
        if (event) {
          if (!enqueue(await record(event))) {
            full = true;
            break;
          }
          taken++;
        } else if (Date.now() - entry.created_at.getTime() > 60_000) {
          // The process died between the outbox entry and the event: that event was never acknowledged.
          await t.events.outbox.done(entry._id);
        }
      } catch (err) {
        log.warn({ err, event: entry._id }, 'fan-out sweep failed; will retry');
        full = true;
        break;
      } finally {
        release();
      }
    }
    if (full) overflowed = true;
    // Everything the outbox held is queued and nothing was left there meanwhile: publishes queue directly again.
    else if (wasOverflowed && gen === overflowGen) overflowed = false;
    if (taken) log.info({ count: taken }, wasOverflowed ? 'fan-outs taken from the outbox' : 'fan-out sweep finished stuck events');
    return taken;
  }

  /** Waits until the start queue is empty, or `timeoutMs` (what is left then stays in the outbox for the sweep). */
  async function drain(timeoutMs: number): Promise<boolean> {
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

  const queueState = () => ({ deliveries: queuedDeliveries, bytes: queuedBytes, events: jobs.length, running, overflowed, ...stats });

  return { fanout, fanoutQueued, claim, isBusy: busy, sweep, drain, queueState };
}
