import { addOutcomes, healthOf, histogramPercentile, sumWindow, type HealthStatus, type HealthSummary, type Outcome } from '../domain/health.js';
import type { AppId, OrgId, WebhookId } from '../domain/ids.js';
import type { Logger } from '../log.js';
import type { Store } from '../storage/mongo.js';
import { deliveryRepo } from '../storage/repos/deliveries.js';
import { webhookRepo } from '../storage/repos/webhooks.js';
import type { WebhookHealthDoc } from '../storage/types.js';

/**
 * Health of one webhook from its hourly summary (one read by `{_id}`; never its deliveries, so a list of webhooks
 * costs one small read per webhook on the page however many deliveries there are).
 */
export async function webhookHealth(store: Store, orgId: OrgId, webhookId: WebhookId): Promise<HealthStatus> {
  return healthOf(await webhookRepo(store, orgId).health.get(webhookId), new Date());
}

/**
 * Keeps each webhook's health summary up to date from the attempts this process makes, in memory, written at most
 * once per `flushMs` per webhook. A successful attempt does not wait for the write (the summary is read once per
 * webhook, then kept while in use); a failed one does, so the failure streak it answers — which drives alerts and
 * auto-disabling — is the stored one. A write is conditional on the summary being the one this process last read
 * or wrote (`updated_at`): if another worker process wrote it meanwhile, the fresh one is read and the outcomes
 * added to it. Health is a summary (the delivery log is the record): a process that dies loses at most its last
 * `flushMs` of successes (and a graceful stop gives the final write 5 s), outcomes past 1,000 waiting for one
 * webhook are dropped, a summary deleted with its webhook is not written again, and on FerretDB (whose updates are
 * not atomic) two writes at the same instant can still lose one's.
 */
const MAX_PENDING = 1000;

export function createHealthRecorder(store: Store, log: Logger, opts: { flushMs?: number; maxWebhooks?: number } = {}) {
  const flushMs = opts.flushMs ?? 1000;
  const maxWebhooks = opts.maxWebhooks ?? 10_000;
  type Slot = {
    orgId: OrgId;
    /** The summary as stored (null: none yet), and its `updated_at` (the write's condition). */
    stored: HealthSummary | null;
    version: Date | null;
    /** Outcomes not yet written, and the summary with them (what `record` answers from). */
    pending: Outcome[];
    view: HealthSummary;
    loading: Promise<void> | null;
    loaded: boolean;
    timer: NodeJS.Timeout | null;
    writing: Promise<void> | null;
    usedAt: number;
  };
  const slots = new Map<WebhookId, Slot>();
  const EMPTY: HealthSummary = { hours: [], recent: [] };
  const summaryOf = (doc: WebhookHealthDoc | null): HealthSummary | null => (doc ? { hours: doc.hours, recent: doc.recent, streak: doc.streak } : null);

  /** The summary `record` answers from: the stored one with the outcomes not yet written. */
  function refreshView(slot: Slot): void {
    slot.view = slot.pending.length ? addOutcomes(slot.stored ?? EMPTY, slot.pending, new Date()) : (slot.stored ?? EMPTY);
  }

  async function load(id: WebhookId, slot: Slot): Promise<void> {
    const doc = await webhookRepo(store, slot.orgId).health.get(id);
    slot.stored = summaryOf(doc);
    slot.version = doc?.updated_at ?? null;
    refreshView(slot);
    slot.loaded = true;
  }

  function schedule(id: WebhookId, slot: Slot, ms: number): void {
    if (slot.timer || slot.writing) return;
    slot.timer = setTimeout(() => {
      slot.timer = null;
      void write(id, slot);
    }, ms);
    slot.timer.unref();
  }

  /** Writes the pending outcomes; on a lost race, reads the summary again and adds them to it (a few rounds). */
  function write(id: WebhookId, slot: Slot): Promise<void> {
    if (slot.writing) return slot.writing;
    slot.writing = (async () => {
      const batch = slot.pending.splice(0);
      if (batch.length === 0) return;
      const repo = webhookRepo(store, slot.orgId).health;
      try {
        for (let round = 0; ; round++) {
          const now = new Date();
          const next = addOutcomes(slot.stored ?? EMPTY, batch, now);
          if (await repo.putIf({ _id: id, org_id: slot.orgId, ...next, updated_at: now }, slot.version)) {
            slot.stored = next;
            slot.version = now;
            break;
          }
          // Another process wrote it (or it is gone): start again from what is stored now.
          const hadOne = slot.version !== null;
          const fresh = await repo.get(id);
          if (!fresh && hadOne) {
            // Deleted with its webhook: nothing to keep.
            slot.stored = null;
            slot.version = null;
            break;
          }
          slot.stored = summaryOf(fresh);
          slot.version = fresh?.updated_at ?? null;
          if (round >= 4) throw new Error('health summary kept changing under this write');
        }
      } catch (err) {
        // Not written: the outcomes go back (bounded) and the write is tried again later.
        slot.pending = [...batch, ...slot.pending].slice(-MAX_PENDING);
        log.warn({ webhook: id, err: (err as Error).message }, 'health summary not updated; will retry');
      }
      refreshView(slot);
    })().finally(() => {
      slot.writing = null;
      if (slot.pending.length > 0) schedule(id, slot, flushMs);
    });
    return slot.writing;
  }

  /** Forgets summaries not used for a while (a webhook's is read again the next time it is needed). */
  function evict(): void {
    const idleFor = Date.now() - 60_000;
    for (const [id, slot] of slots) {
      if (slots.size <= maxWebhooks / 2) break;
      if (slot.pending.length === 0 && !slot.writing && !slot.loading && !slot.timer && slot.usedAt < idleFor) slots.delete(id);
    }
  }

  return {
    /** Adds an outcome; resolves with the webhook's failed attempts in a row, this one included (written within flushMs). */
    async record(orgId: OrgId, webhookId: WebhookId, o: Outcome): Promise<number> {
      let slot = slots.get(webhookId);
      if (!slot) {
        if (slots.size >= maxWebhooks) evict();
        slot = { orgId, stored: null, version: null, pending: [], view: EMPTY, loading: null, loaded: false, timer: null, writing: null, usedAt: Date.now() };
        slots.set(webhookId, slot);
      }
      const s = slot;
      s.usedAt = Date.now();
      if (!s.loaded) {
        s.loading ??= load(webhookId, s).finally(() => {
          s.loading = null;
        });
        try {
          await s.loading;
        } catch (err) {
          // Unreadable now: count from what is known; the write later reads it again.
          log.warn({ webhook: webhookId, err: (err as Error).message }, 'health summary not read');
          s.loaded = false;
        }
      }
      s.pending.push(o);
      if (s.pending.length > MAX_PENDING) s.pending.splice(0, s.pending.length - MAX_PENDING);
      s.view = addOutcomes(s.view, [o], new Date());
      if (!o.ok) {
        // A failure's streak drives alerts and auto-disabling: it is written now, merged with what other workers
        // stored (a conditional write that lost re-reads), so the streak answered is the stored one.
        if (s.timer) clearTimeout(s.timer);
        s.timer = null;
        for (let i = 0; i < 3 && s.pending.includes(o); i++) await write(webhookId, s);
        return s.view.streak ?? 0;
      }
      if (s.loaded) schedule(webhookId, s, flushMs);
      else schedule(webhookId, s, flushMs * 2);
      return s.view.streak ?? 0;
    },
    /** Writes every pending outcome now (a worker's shutdown), for at most `timeoutMs`. */
    async flush(timeoutMs = 5000): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      const all = Promise.allSettled(
        [...slots].map(async ([id, slot]) => {
          if (slot.timer) clearTimeout(slot.timer);
          slot.timer = null;
          if (slot.writing) await slot.writing;
          if (slot.pending.length > 0) await write(id, slot);
        }),
      );
      await Promise.race([all, late]);
      clearTimeout(timer);
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
  // One definition of success, here and in applicationStats: the share of the finished attempts in the window that
  // succeeded (a delivery that succeeded on its third attempt counts one success and two failures). Deliveries are
  // counted apart, by their state.
  const succeeded = attempts.filter((a) => a.error === null).length;
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
    attempts: { succeeded, failed: attempts.length - succeeded },
    success_rate: attempts.length === 0 ? null : succeeded / attempts.length,
    deliveries: { delivered, failed, pending: count(['pending', 'paused']) },
    latency_ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    health_status: health,
    last_success_at: last(true)?.toISOString() ?? null,
    last_failure_at: last(false)?.toISOString() ?? null,
    series,
  };
}

/**
 * An application's delivery statistics over the last 24 h, from its webhooks' hourly summaries (one read by `_id`
 * per webhook, never a scan of deliveries): attempts, success rate (succeeded / finished attempts, as webhookStats),
 * latency percentiles (the upper bound of the histogram bucket each falls in), and each webhook's status and health.
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
