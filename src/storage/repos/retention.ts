import type { DeliveryId, EventId, OrgId, RecoveryId } from '../../domain/ids.js';
import { attemptId } from '../../domain/ids.js';
import type { Store } from '../mongo.js';

/** Delivery states that have ended: what retention may delete (never pending or paused). */
const ENDED = ['delivered', 'failed', 'cancelled', 'skipped'];

/** Which organizations a retention query covers: a list, or every one but a list (those with their own retention). */
export type OrgSet = { in: OrgId[] } | { notIn: OrgId[] };

/**
 * What the retention cleanup reads and deletes, in bounded batches, for a set of organizations that share one
 * retention (so one query serves them all, not one scan per organization). Finding candidates is a filtered scan
 * with a limit (FerretDB reads in storage order, oldest first); deleting is by `_id`, one document at a time (the
 * only filter FerretDB answers without a scan), attempts by the ids derived from their delivery.
 */
export function retentionRepo(store: Store, orgs: OrgSet) {
  const { c } = store;
  const orgFilter = 'in' in orgs ? { org_id: { $in: orgs.in } } : orgs.notIn.length ? { org_id: { $nin: orgs.notIn } } : {};
  const each = async <T>(items: T[], fn: (x: T) => Promise<unknown>) => {
    for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(fn));
  };
  return {
    /**
     * Ended deliveries created before the cutoff, with their attempts; then the events of those deliveries that
     * no delivery needs any more (an event whose other delivery is still pending or paused stays).
     */
    async deleteEndedDeliveries(before: Date, limit: number): Promise<{ deliveries: number; attempts: number; events: number }> {
      const docs = await c.deliveries.find({ ...orgFilter, created_at: { $lt: before }, status: { $in: ENDED } } as never, { projection: { _id: 1, attempt: 1, event_id: 1 } }).limit(limit).toArray();
      let attempts = 0;
      await each(docs, async (d) => {
        for (let n = 1; n <= Math.max(d.attempt, 0); n++) {
          const { deletedCount } = await c.attempts.deleteOne({ _id: attemptId(d._id as DeliveryId, n) });
          attempts += deletedCount; // after the await: `x += await y` would read x before waiting
        }
        await c.deliveries.deleteOne({ _id: d._id });
      });
      const eventIds = [...new Set(docs.map((d) => d.event_id))];
      let events = 0;
      if (eventIds.length) {
        const remaining = await c.deliveries.find({ event_id: { $in: eventIds } }, { projection: { event_id: 1 } }).toArray();
        const needed = new Set(remaining.map((d) => d.event_id));
        const gone = eventIds.filter((id) => !needed.has(id));
        await each(gone, (id: EventId) => c.events.deleteOne({ _id: id }));
        events = gone.length;
      }
      return { deliveries: docs.length, attempts, events };
    },
    /** Events created before the cutoff that matched no webhook (they never had a delivery). */
    async deleteUnmatchedEvents(before: Date, limit: number): Promise<number> {
      const events = await c.events.find({ ...orgFilter, created_at: { $lt: before }, matched: { $size: 0 } } as never, { projection: { _id: 1 } }).limit(limit).toArray();
      await each(events, (e: { _id: EventId }) => c.events.deleteOne({ _id: e._id }));
      return events.length;
    },
    async deleteRecoveries(before: Date, limit: number): Promise<number> {
      const recs = await c.recoveries.find({ ...orgFilter, status: 'completed', created_at: { $lt: before } } as never, { projection: { _id: 1 } }).limit(limit).toArray();
      await each(recs, (r: { _id: RecoveryId }) => c.recoveries.deleteOne({ _id: r._id }));
      return recs.length;
    },
    /** Idempotency keys past their 24 h window. */
    async deleteIdempotencyKeys(before: Date, limit: number): Promise<number> {
      const keys = await c.idempotency.find({ ...orgFilter, created_at: { $lt: before } } as never, { projection: { _id: 1 } }).limit(limit).toArray();
      await each(keys, (k: { _id: string }) => c.idempotency.deleteOne({ _id: k._id }));
      return keys.length;
    },
  };
}
