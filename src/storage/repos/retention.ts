import type { DeliveryId, EventId, OrgId, RecoveryId } from '../../domain/ids.js';
import { attemptId } from '../../domain/ids.js';
import type { Store } from '../mongo.js';

/** Delivery states that have ended: what retention may delete (never pending or paused). */
const ENDED = ['delivered', 'failed', 'cancelled', 'skipped'];

/**
 * What the retention cleanup reads and deletes for one organization, in bounded batches. Finding candidates is a
 * filtered scan with a limit (FerretDB reads in storage order, oldest first); deleting is by `_id` one document at
 * a time (the only filter FerretDB answers without a scan), attempts by the ids derived from their delivery.
 */
export function retentionRepo(store: Store, orgId: OrgId) {
  const { c } = store;
  const each = async <T>(items: T[], fn: (x: T) => Promise<unknown>) => {
    for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(fn));
  };
  return {
    /** Ended deliveries created before the cutoff, with their attempts: returns how many of each were deleted. */
    async deleteEndedDeliveries(before: Date, limit: number): Promise<{ deliveries: number; attempts: number }> {
      const docs = await c.deliveries.find({ org_id: orgId, created_at: { $lt: before }, status: { $in: ENDED } } as never, { projection: { _id: 1, attempt: 1 } }).limit(limit).toArray();
      let attempts = 0;
      await each(docs, async (d) => {
        for (let n = 1; n <= Math.max(d.attempt, 0); n++) {
          const { deletedCount } = await c.attempts.deleteOne({ _id: attemptId(d._id as DeliveryId, n) });
          attempts += deletedCount; // after the await: `x += await y` would read x before waiting
        }
        await c.deliveries.deleteOne({ _id: d._id });
      });
      return { deliveries: docs.length, attempts };
    },
    /** Events created before the cutoff that no open delivery still needs. */
    async deleteEvents(before: Date, limit: number): Promise<{ events: number; kept: number }> {
      const events = await c.events.find({ org_id: orgId, created_at: { $lt: before } }, { projection: { _id: 1 } }).limit(limit).toArray();
      if (events.length === 0) return { events: 0, kept: 0 };
      const ids = events.map((e) => e._id);
      const open = await c.deliveries.find({ event_id: { $in: ids }, status: { $nin: ENDED } } as never, { projection: { event_id: 1 } }).toArray();
      const needed = new Set(open.map((d) => d.event_id));
      const gone = ids.filter((id) => !needed.has(id));
      await each(gone, (id: EventId) => c.events.deleteOne({ _id: id }));
      return { events: gone.length, kept: needed.size };
    },
    async deleteRecoveries(before: Date, limit: number): Promise<number> {
      const recs = await c.recoveries.find({ org_id: orgId, status: 'completed', created_at: { $lt: before } }, { projection: { _id: 1 } }).limit(limit).toArray();
      await each(recs, (r: { _id: RecoveryId }) => c.recoveries.deleteOne({ _id: r._id }));
      return recs.length;
    },
    /** Idempotency keys past their 24 h window. */
    async deleteIdempotencyKeys(before: Date, limit: number): Promise<number> {
      const keys = await c.idempotency.find({ org_id: orgId, created_at: { $lt: before } }, { projection: { _id: 1 } }).limit(limit).toArray();
      await each(keys, (k: { _id: string }) => c.idempotency.deleteOne({ _id: k._id }));
      return keys.length;
    },
  };
}
