import type { Store } from '../storage/mongo.js';
import { IDEMPOTENCY_WINDOW_MS } from '../storage/repos/events.js';
import { orgRepo } from '../storage/repos/orgs.js';
import { retentionRepo } from '../storage/repos/retention.js';

export type RetentionTotals = { events: number; deliveries: number; attempts: number; recoveries: number; idempotency_keys: number; more: boolean };

const DAY_MS = 24 * 3600 * 1000;

/**
 * One bounded round of the retention cleanup over every organization: events, ended deliveries (with their
 * attempts), completed recoveries older than the organization's retention (its own `retention_days`, else the
 * deployment's), and expired idempotency keys. A delivery still pending or paused is never deleted, nor the event
 * it needs. `more` is true when some organization had a full batch (another round has work).
 */
export async function retentionRound(store: Store, opts: { defaultDays: number; batch: number; now?: Date }): Promise<RetentionTotals> {
  const now = opts.now ?? new Date();
  const totals: RetentionTotals = { events: 0, deliveries: 0, attempts: 0, recoveries: 0, idempotency_keys: 0, more: false };
  for (const org of await orgRepo(store).all()) {
    const cutoff = new Date(now.getTime() - (org.retention_days ?? opts.defaultDays) * DAY_MS);
    const repo = retentionRepo(store, org._id);
    const d = await repo.deleteEndedDeliveries(cutoff, opts.batch);
    const e = await repo.deleteEvents(cutoff, opts.batch);
    const r = await repo.deleteRecoveries(cutoff, opts.batch);
    const k = await repo.deleteIdempotencyKeys(new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS), opts.batch);
    totals.deliveries += d.deliveries;
    totals.attempts += d.attempts;
    totals.events += e.events;
    totals.recoveries += r;
    totals.idempotency_keys += k;
    if (d.deliveries === opts.batch || e.events + e.kept === opts.batch || r === opts.batch || k === opts.batch) totals.more = true;
  }
  return totals;
}
