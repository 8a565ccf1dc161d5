import type { AppId, DeliveryId, EventId, OrgId, RecoveryId, WebhookId } from '../../domain/ids.js';
import { isDuplicateKey, type Store } from '../mongo.js';
import { createdBetween, findPage, type PageQuery } from '../page.js';
import type { AttemptDoc, DeliveryDoc, DeliveryStatus, WaitReason } from '../types.js';

export type DeliveryListFilter = { status?: DeliveryStatus; eventType?: string; since?: Date | null; until?: Date | null };
export type DeliveryRef = Pick<DeliveryDoc, '_id' | 'webhook_id' | 'event_id'>;

/** What one attempt did to its delivery (the attempt record itself is written beside it). */
export type AttemptOutcome = {
  status: 'pending' | 'delivered' | 'failed';
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number | null;
  nextAttemptAt: Date | null;
  at: Date;
};

/**
 * The deliveries (and their attempts) of one organization. This is the only code that writes a delivery's
 * status. Reads and writes by id use `{_id}` alone — the only filter FerretDB's SQLite backend answers without a
 * scan — and reads check the organization here; ids passed to writes come from this organization's own reads
 * or from the workflow input its publish created.
 */
export function deliveryRepo(store: Store, orgId: OrgId) {
  const { c } = store;
  const mine = <T extends { org_id: OrgId }>(d: T | null) => (d && d.org_id === orgId ? d : null);
  const now = () => new Date();
  const markCancelled = async (id: DeliveryId) => {
    await c.deliveries.updateOne({ _id: id }, { $set: { status: 'cancelled', next_attempt_at: null, ended_at: now(), updated_at: now() } });
  };
  const markPaused = async (id: DeliveryId) => {
    await c.deliveries.updateOne({ _id: id }, { $set: { status: 'paused', next_attempt_at: null, updated_at: now() } });
  };

  return {
    async get(id: DeliveryId): Promise<DeliveryDoc | null> {
      return mine(await store.b.findById('deliveries', id));
    },
    async ofEvent(eventId: EventId): Promise<DeliveryDoc[]> {
      return (await c.deliveries.find({ event_id: eventId }).toArray()).filter((d) => d.org_id === orgId);
    },
    async ofEventAndWebhook(eventId: EventId, webhookId: WebhookId): Promise<DeliveryDoc | null> {
      return mine(await c.deliveries.findOne({ event_id: eventId, webhook_id: webhookId }));
    },
    async recent(webhookId: WebhookId, n: number): Promise<DeliveryDoc[]> {
      return c.deliveries.find({ webhook_id: webhookId, org_id: orgId }).sort({ created_at: -1 }).limit(n).toArray();
    },
    async page(webhookId: WebhookId, f: DeliveryListFilter, q: PageQuery) {
      const filter: Record<string, unknown> = { webhook_id: webhookId, org_id: orgId, ...createdBetween(f.since, f.until) };
      if (f.status) filter.status = f.status;
      if (f.eventType) filter.event_type = f.eventType;
      return findPage(c.deliveries, filter, { created_at: -1 }, q);
    },
    /** The deliveries of a webhook that ended failed, or were skipped, in [since, until), oldest first (a recovery's work list). */
    async failedBetween(webhookId: WebhookId, since: Date, until: Date | null): Promise<DeliveryDoc[]> {
      return c.deliveries.find({ webhook_id: webhookId, org_id: orgId, status: { $in: ['failed', 'skipped'] }, ...createdBetween(since, until) }).sort({ created_at: 1 }).toArray();
    },
    /**
     * Deliveries a recovery set pending again whose re-delivery may not have started (it died in between): still
     * pending with the attempt count they had then. Re-delivering them again is at worst one extra attempt.
     */
    async interruptedRetries(webhookId: WebhookId, by: RecoveryId): Promise<DeliveryDoc[]> {
      const docs = await c.deliveries.find({ webhook_id: webhookId, org_id: orgId, retried_by: by, status: 'pending' }).toArray();
      return docs.filter((d) => d.attempt === d.retry_from);
    },
    /**
     * What a release still has to start, in publication order: deliveries held while the webhook was paused, and
     * those this release marked but may not have started (it died in between; starting again is a no-op).
     */
    async toRelease(webhookId: WebhookId, releasedBy: RecoveryId): Promise<DeliveryDoc[]> {
      const filter = { webhook_id: webhookId, org_id: orgId, $or: [{ status: 'paused', held: true }, { released_by: releasedBy, status: 'pending', attempt: 0 }] };
      return c.deliveries.find(filter as never).sort({ created_at: 1 }).toArray();
    },
    /** Leaves the held state before its workflow starts (after that, only the workflow writes its state). */
    async markReleased(id: DeliveryId, releasedBy: RecoveryId | null): Promise<void> {
      await c.deliveries.updateOne({ _id: id }, { $set: { status: 'pending', held: false, released_by: releasedBy, next_attempt_at: now(), ended_at: null, updated_at: now() } });
    },
    /** Deliveries of an application (or of organization-level webhooks: null), newest first. */
    async pageOfApplication(appId: AppId | null, f: DeliveryListFilter, q: PageQuery) {
      const filter: Record<string, unknown> = { org_id: orgId, application_id: appId, ...createdBetween(f.since, f.until) };
      if (f.status) filter.status = f.status;
      if (f.eventType) filter.event_type = f.eventType;
      return findPage(c.deliveries, filter, { created_at: -1 }, q);
    },
    /** Inserts what is new; returns every delivery of the event afterwards if a racing fan-out inserted some. */
    async insertMany(docs: DeliveryDoc[]): Promise<'inserted' | 'raced'> {
      if (docs.some((d) => d.org_id !== orgId)) throw new Error('delivery of another organization');
      try {
        await store.b.insert('deliveries', docs);
        return 'inserted';
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        return 'raced';
      }
    },
    /** The states of a webhook's deliveries since a time (its statistics). */
    async window(webhookId: WebhookId, since: Date) {
      const filter = { webhook_id: webhookId, org_id: orgId, created_at: { $gte: since } };
      return c.deliveries.find(filter, { projection: { status: 1, attempt: 1, created_at: 1 } }).toArray() as Promise<Pick<DeliveryDoc, 'status' | 'attempt' | 'created_at'>[]>;
    },

    // ---- state: the only writers of a delivery's status ----------------------------------------------------

    /** The outcome of an attempt. */
    async recordOutcome(id: DeliveryId, o: AttemptOutcome): Promise<void> {
      await store.b.updateById('deliveries', id, {
        $set: {
          status: o.status, attempt: o.attempt, status_code: o.statusCode, last_error: o.error, last_duration_ms: o.durationMs,
          next_attempt_at: o.nextAttemptAt, delivered_at: o.status === 'delivered' ? o.at : null,
          ended_at: o.status === 'pending' ? null : o.at, updated_at: o.at, waiting: null,
        },
      });
    },
    /** Its next attempt waits for room to be sent (`null`: it is being sent now). Does not touch an ended delivery's state. */
    async markWaiting(id: DeliveryId, reason: WaitReason | null): Promise<void> {
      await store.b.updateById('deliveries', id, { $set: { waiting: reason ? { reason, since: now() } : null, updated_at: now() } });
    },
    markCancelled,
    /** Held because its webhook is disabled. */
    markPaused,
    /** A state the workflow reached without an attempt (held by a pause signal, or cancelled), if still open. */
    async markHeldOrCancelled(id: DeliveryId, status: 'paused' | 'cancelled'): Promise<void> {
      const d = mine(await c.deliveries.findOne({ _id: id }));
      if (!d || (d.status !== 'pending' && d.status !== 'paused') || d.status === status) return;
      if (status === 'cancelled') await markCancelled(id);
      else await markPaused(id);
    },
    /** Attempts again now (a retry or a recovery). */
    async markRetrying(id: DeliveryId, by: RecoveryId | null = null, fromAttempt: number | null = null): Promise<void> {
      await c.deliveries.updateOne({ _id: id }, { $set: { status: 'pending', held: false, ended_at: null, next_attempt_at: now(), updated_at: now(), retried_by: by, retry_from: fromAttempt } });
    },
    /** Moves a webhook's deliveries from some states to another; returns the ones that were in `from`. */
    async moveAll(webhookId: WebhookId, from: DeliveryStatus[], to: 'paused' | 'pending' | 'cancelled', signalled: DeliveryStatus[] = from): Promise<DeliveryRef[]> {
      // Held deliveries have no workflow: only a cancel moves them (a release starts them one by one, in order).
      const held = to === 'cancelled' ? {} : { held: { $ne: true } };
      const refs = await c.deliveries.find({ webhook_id: webhookId, org_id: orgId, status: { $in: signalled }, ...held }, { projection: { webhook_id: 1, event_id: 1 } }).toArray();
      const set: Record<string, unknown> = { status: to, updated_at: now() };
      if (to !== 'pending') set.next_attempt_at = null;
      if (to === 'cancelled') set.ended_at = now();
      await c.deliveries.updateMany({ webhook_id: webhookId, org_id: orgId, status: { $in: from }, ...held }, { $set: set });
      return refs;
    },

    // ---- attempts --------------------------------------------------------------------------------------------

    attempts: {
      async of(deliveryId: DeliveryId): Promise<AttemptDoc[]> {
        return (await c.attempts.find({ delivery_id: deliveryId }).sort({ attempt: 1 }).toArray()).filter((a) => a.org_id === orgId);
      },
      async ofMany(ids: DeliveryId[]): Promise<AttemptDoc[]> {
        return (await c.attempts.find({ delivery_id: { $in: ids } }).sort({ attempt: 1 }).toArray()).filter((a) => a.org_id === orgId);
      },
      /**
       * Before the request leaves: the attempt's record, in flight. If the record exists, this attempt already ran.
       * Made by the same workflow run (`a.run_id`) with its outcome recorded — the request was answered, and
       * Temporal ran the attempt again because the workflow task that carried its result was lost — that record is
       * returned and nothing is sent again. Otherwise (still in flight: a worker died after it began, perhaps after
       * sending; or another run, or no run id) the send is counted, so the log accounts for every request that left
       * hookrelay. By `_id` (derived from delivery and attempt number), so no scan on FerretDB.
       */
      async begin(a: AttemptDoc): Promise<AttemptDoc | null> {
        if (a.org_id !== orgId) throw new Error('attempt of another organization');
        try {
          await store.b.insert('attempts', [{ ...a, sends: 1, in_flight: true }]);
          return null;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          const prev = await c.attempts.findOne({ _id: a._id });
          if (prev && prev.org_id === orgId && prev.in_flight === false && a.run_id && prev.run_id === a.run_id) return prev;
          await c.attempts.updateOne({ _id: a._id }, { $inc: { sends: 1 }, $set: { in_flight: true, run_id: a.run_id ?? null } });
          return null;
        }
      },
      /** The outcome of the request begun by begin(). */
      async finish(id: AttemptDoc['_id'], r: Pick<AttemptDoc, 'status_code' | 'duration_ms' | 'error' | 'response_body' | 'retry_after'>): Promise<void> {
        await store.b.updateById('attempts', id, { $set: { ...r, in_flight: false } });
      },
      async window(webhookId: WebhookId, since: Date) {
        // Requests still in flight have no outcome yet: statistics count finished attempts only.
        const filter = { webhook_id: webhookId, org_id: orgId, created_at: { $gte: since }, in_flight: { $ne: true } };
        return c.attempts.find(filter, { projection: { error: 1, duration_ms: 1, created_at: 1 } }).toArray() as Promise<Pick<AttemptDoc, 'error' | 'duration_ms' | 'created_at'>[]>;
      },
    },
  };
}

export type DeliveryRepo = ReturnType<typeof deliveryRepo>;

/** The organization a delivery belongs to (for callers that know only its id, such as older workflow runs). */
export async function deliveryOwner(store: Store, id: DeliveryId): Promise<OrgId | null> {
  return (await store.c.deliveries.findOne({ _id: id }))?.org_id ?? null;
}
