import type { Store } from '../storage/mongo.js';
import { IDEMPOTENCY_WINDOW_MS } from '../storage/repos/events.js';
import { orgRepo } from '../storage/repos/orgs.js';
import { retentionRepo, type OrgSet } from '../storage/repos/retention.js';
import type { OrgId } from '../domain/ids.js';

export type RetentionTotals = { events: number; deliveries: number; attempts: number; recoveries: number; idempotency_keys: number; more: boolean };

const DAY_MS = 24 * 3600 * 1000;

/**
 * One bounded round of the retention cleanup: ended deliveries (with their attempts and the events no delivery
 * needs any more), events that matched nothing, completed recoveries — older than the organization's retention (its
 * own `retention_days`, else the deployment's) — and expired idempotency keys. Organizations sharing a retention
 * are covered by one query each (the deployment's default by "every organization but those with their own"). A
 * delivery still pending or paused is never deleted, nor an event it needs. `more`: some batch was full.
 */
export async function retentionRound(store: Store, opts: { defaultDays: number; batch: number; now?: Date }): Promise<RetentionTotals> {
  const now = opts.now ?? new Date();
  const totals: RetentionTotals = { events: 0, deliveries: 0, attempts: 0, recoveries: 0, idempotency_keys: 0, more: false };
  const own = new Map<number, OrgId[]>();
  for (const org of await orgRepo(store).all()) {
    if (org.retention_days == null || org.retention_days === opts.defaultDays) continue;
    own.set(org.retention_days, [...(own.get(org.retention_days) ?? []), org._id]);
  }
  const groups: { days: number; orgs: OrgSet }[] = [
    { days: opts.defaultDays, orgs: { notIn: [...own.values()].flat() } },
    ...[...own].map(([days, ids]) => ({ days, orgs: { in: ids } })),
  ];
  for (const g of groups) {
    const cutoff = new Date(now.getTime() - g.days * DAY_MS);
    const repo = retentionRepo(store, g.orgs);
    const d = await repo.deleteEndedDeliveries(cutoff, opts.batch);
    const e = await repo.deleteUnmatchedEvents(cutoff, opts.batch);
    const r = await repo.deleteRecoveries(cutoff, opts.batch);
    totals.deliveries += d.deliveries;
    totals.attempts += d.attempts;
    totals.events += d.events + e;
    totals.recoveries += r;
    if (d.deliveries === opts.batch || e === opts.batch || r === opts.batch) totals.more = true;
  }
  const k = await retentionRepo(store, { notIn: [] }).deleteIdempotencyKeys(new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS), opts.batch);
  totals.idempotency_keys = k;
  if (k === opts.batch) totals.more = true;
  return totals;
}
