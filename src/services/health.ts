import { healthOf, type HealthStatus } from '../domain/health.js';
import type { Store } from '../storage/mongo.js';

const DAY_MS = 24 * 3600 * 1000;

/** Health of one webhook from its last 24 h of deliveries and attempts (read from MongoDB, never from Temporal). */
export async function webhookHealth(store: Store, webhookId: string): Promise<HealthStatus> {
  const since = new Date(Date.now() - DAY_MS);
  const [deliveries, attempts] = await Promise.all([
    store.c.deliveries
      .find({ webhook_id: webhookId, created_at: { $gte: since }, attempt: { $gt: 0 } }, { projection: { status: 1, attempt: 1 } })
      .sort({ created_at: -1 })
      .limit(1000)
      .toArray(),
    store.c.attempts.find({ webhook_id: webhookId, created_at: { $gte: since } }, { projection: { error: 1 } }).sort({ created_at: -1 }).limit(5).toArray(),
  ]);
  return healthOf(
    deliveries.map((d) => ({ succeeded: d.status === 'delivered', attempts: d.attempt })),
    attempts.map((a) => a.error === null),
  );
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function webhookStats(store: Store, webhookId: string, windowMs: number) {
  const since = new Date(Date.now() - windowMs);
  const [deliveries, attempts, health] = await Promise.all([
    store.c.deliveries.find({ webhook_id: webhookId, created_at: { $gte: since } }, { projection: { status: 1 } }).toArray(),
    store.c.attempts.find({ webhook_id: webhookId, created_at: { $gte: since } }, { projection: { error: 1, duration_ms: 1, created_at: 1 } }).toArray(),
    webhookHealth(store, webhookId),
  ]);
  const count = (s: string[]) => deliveries.filter((d) => s.includes(d.status)).length;
  const delivered = count(['delivered']);
  const failed = count(['failed']);
  const latencies = attempts.map((a) => a.duration_ms).sort((a, b) => a - b);
  const last = (ok: boolean) =>
    attempts.filter((a) => (a.error === null) === ok).reduce<Date | null>((m, a) => (!m || a.created_at > m ? a.created_at : m), null);
  return {
    deliveries: { delivered, failed, pending: count(['pending', 'paused']) },
    success_rate: delivered + failed === 0 ? null : delivered / (delivered + failed),
    latency_ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    health_status: health,
    last_success_at: last(true)?.toISOString() ?? null,
    last_failure_at: last(false)?.toISOString() ?? null,
  };
}
