import { healthOf, type HealthStatus } from '../domain/health.js';
import type { OrgId, WebhookId } from '../domain/ids.js';
import type { Store } from '../storage/mongo.js';
import { deliveryRepo } from '../storage/repos/deliveries.js';

const DAY_MS = 24 * 3600 * 1000;

/** Health of one webhook from its last 24 h of deliveries and attempts (read from MongoDB, never from Temporal). */
export async function webhookHealth(store: Store, orgId: OrgId, webhookId: WebhookId): Promise<HealthStatus> {
  const since = new Date(Date.now() - DAY_MS);
  const repo = deliveryRepo(store, orgId);
  const [deliveries, attempts] = await Promise.all([repo.window(webhookId, since, { attempted: true, limit: 1000 }), repo.attempts.window(webhookId, since, 5)]);
  return healthOf(
    deliveries.map((d) => ({ succeeded: d.status === 'delivered', attempts: d.attempt })),
    attempts.map((a) => a.error === null),
  );
}

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
