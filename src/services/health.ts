import { addOutcomes, healthOf, histogramPercentile, sumWindow, type HealthStatus, type Outcome } from '../domain/health.js';
import type { AppId, OrgId, WebhookId } from '../domain/ids.js';
import type { Logger } from '../log.js';
import type { Store } from '../storage/mongo.js';
import { deliveryRepo } from '../storage/repos/deliveries.js';
import { webhookRepo } from '../storage/repos/webhooks.js';

/**
 * Health of one webhook from its hourly summary (one read by `{_id}`; never its deliveries, so a list of webhooks
 * costs one small read per webhook on the page however many deliveries there are).
 */
export async function webhookHealth(store: Store, orgId: OrgId, webhookId: WebhookId): Promise<HealthStatus> {
  return healthOf(await webhookRepo(store, orgId).health.get(webhookId), new Date());
}

/**
 * Keeps each webhook's health summary up to date from the attempts this process makes. Writes are serialized per
 * webhook and coalesced: while one write is in flight, outcomes that arrive wait and go together in the next one,
 * so a busy webhook costs one read and one write per round trip, not per attempt. `record` resolves once its
 * outcome is stored. Several worker processes write with read-modify-write; on FerretDB (whose updates are not
 * atomic) two writes for the same webhook at the same instant can lose one's outcomes — health is a summary, the
 * delivery log is the record.
 */
export function createHealthRecorder(store: Store, log: Logger) {
  type Slot = { orgId: OrgId; waiting: { o: Outcome; done: (streak: number) => void }[]; writing: boolean };
  const slots = new Map<WebhookId, Slot>();

  async function drain(id: WebhookId, slot: Slot): Promise<void> {
    slot.writing = true;
    while (slot.waiting.length > 0) {
      const batch = slot.waiting.splice(0);
      let streak = 0;
      try {
        const repo = webhookRepo(store, slot.orgId).health;
        const now = new Date();
        const prev = await repo.get(id);
        const next = addOutcomes(prev ?? { hours: [], recent: [] }, batch.map((b) => b.o), now);
        await repo.put({ _id: id, org_id: slot.orgId, ...next, updated_at: now });
        streak = next.streak ?? 0;
      } catch (err) {
        // The summary is not the record of the attempts (those are stored apart): log and go on.
        log.warn({ webhook: id, err: (err as Error).message }, 'health summary not updated');
      }
      for (const b of batch) b.done(streak);
    }
    slot.writing = false;
    slots.delete(id);
  }

  return {
    /** Resolves with the webhook's failed attempts in a row after this outcome is stored (0 if it could not be). */
    record(orgId: OrgId, webhookId: WebhookId, o: Outcome): Promise<number> {
      let slot = slots.get(webhookId);
      if (!slot) slots.set(webhookId, (slot = { orgId, waiting: [], writing: false }));
      const done = new Promise<number>((resolve) => slot.waiting.push({ o, done: resolve }));
      if (!slot.writing) void drain(webhookId, slot);
      return done;
    },
  };
}

export type HealthRecorder = ReturnType<typeof createHealthRecorder>;

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function webhookStats(store: Store, orgId: OrgId, webhookId: WebhookId, windowMs: number) {
  const since = new Date(Date.now() - windowMs);
  const repo = deliveryRepo(store, orgId);
  const [deliveries, attempts, health] = await Promise.all([repo.window(webhookId, since), repo.attempts.window(webhookId, since), webhookHealth(store, orgId, webhookId)]);
  const count = (s: string[]) => deliveries.filter((d) => s.includes(d.status)).length;
  const delivered = count(['delivered']);
  const failed = count(['failed']);
  const latencies = attempts.map((a) => a.duration_ms).sort((a, b) => a - b);
  // A series for charts: hourly up to 2 days, daily beyond; at most 90 points.
  const step = windowMs <= 2 * 24 * 3600_000 ? 3600_000 : 24 * 3600_000;
  const first = Math.floor(since.getTime() / step) * step;
  const n = Math.min(90, Math.ceil((Date.now() - first) / step));
  const series = Array.from({ length: n }, (_, i) => ({ at: new Date(first + i * step).toISOString(), delivered: 0, failed: 0, other: 0 }));
  for (const d of deliveries) {
    const i = Math.floor((d.created_at.getTime() - first) / step);
    const b = series[Math.max(0, Math.min(n - 1, i))];
    if (!b) continue;
    if (d.status === 'delivered') b.delivered++;
    else if (d.status === 'failed') b.failed++;
    else b.other++;
  }
  const last = (ok: boolean) =>
    attempts.filter((a) => (a.error === null) === ok).reduce<Date | null>((m, a) => (!m || a.created_at > m ? a.created_at : m), null);
  return {
    deliveries: { delivered, failed, pending: count(['pending', 'paused']) },
    success_rate: delivered + failed === 0 ? null : delivered / (delivered + failed),
    latency_ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    health_status: health,
    last_success_at: last(true)?.toISOString() ?? null,
    last_failure_at: last(false)?.toISOString() ?? null,
    series,
  };
}

/**
 * An application's delivery statistics over the last 24 h, from its webhooks' hourly summaries (one read by `_id`
 * per webhook, never a scan of deliveries): attempts, success rate, latency percentiles (the upper bound of the
 * histogram bucket each falls in), and each webhook's status and health.
 */
export async function applicationStats(store: Store, orgId: OrgId, appId: AppId) {
  const repo = webhookRepo(store, orgId);
  const webhooks = await repo.ofApplication(appId);
  const summaries = await Promise.all(webhooks.map((w) => repo.health.get(w._id)));
  const now = new Date();
  const { ok, failed, lat } = sumWindow(summaries.filter((s) => s !== null), now);
  return {
    window: '24h',
    attempts: { succeeded: ok, failed },
    success_rate: ok + failed === 0 ? null : ok / (ok + failed),
    latency_ms: { p50: histogramPercentile(lat, 50), p95: histogramPercentile(lat, 95), p99: histogramPercentile(lat, 99) },
    webhooks: webhooks.map((w, i) => ({ id: w._id, uid: w.uid, url: w.url, status: w.status, health_status: healthOf(summaries[i], now) })),
  };
}
