import { newId, type OrgId, type RecoveryId, type WebhookId } from '../domain/ids.js';
import { notFound } from '../errors.js';
import type { Store } from '../storage/mongo.js';
import { recoveryOwner } from '../storage/repos/recoveries.js';
import { tenant } from '../storage/tenant.js';
import type { RecoveryDoc, WebhookDoc } from '../storage/types.js';
import { temporalCall, type Temporal } from '../temporal.js';
import type { Control } from './control.js';

export type Recoveries = ReturnType<typeof createRecoveries>;

/**
 * Recover tasks (rcv_…): re-deliver every delivery of a webhook that ended failed in [since, until). Each task is
 * a durable workflow (workflows/recovery.ts), so a crash of the API half-way through still finishes it.
 */
export function createRecoveries(deps: { store: Store; temporal: Temporal; control: Control }) {
  const { store, temporal, control } = deps;

  /**
   * A recovery of [since, until); with `release`, first the deliveries held while the webhook was paused, in
   * publication order (a resume's task; `since` null = nothing to recover besides).
   */
  async function start(wh: WebhookDoc, since: Date | null, until: Date | null, opts: { release?: boolean } = {}): Promise<RecoveryDoc> {
    const rec: RecoveryDoc = {
      _id: newId('rcv'), org_id: wh.org_id, webhook_id: wh._id, release: opts.release ?? false, since, until, status: 'running', recovered: 0,
      created_at: new Date(), completed_at: null,
    };
    const repo = tenant(store, wh.org_id).recoveries;
    await repo.insert(rec);
    try {
      await temporalCall(temporal, () =>
        temporal.client.workflow.start('recoveryWorkflow', {
          taskQueue: temporal.taskQueue,
          workflowId: `recovery/${rec._id}`,
          args: [{ recoveryId: rec._id }],
        }),
      );
    } catch (err) {
      // The API answers 503 "no effect": leave no task behind that would read `running` forever.
      await repo.remove(rec._id);
      throw err;
    }
    return rec;
  }

  async function get(orgId: OrgId, webhookId: WebhookId, id: RecoveryId): Promise<RecoveryDoc> {
    const rec = await tenant(store, orgId).recoveries.get(id, webhookId);
    if (!rec) throw notFound('recovery');
    return rec;
  }

  /** The body of a recover task (run by the worker's activity): returns how many deliveries it restarted. */
  async function run(recoveryId: RecoveryId, heartbeat: () => void): Promise<number> {
    const orgId = await recoveryOwner(store, recoveryId);
    if (!orgId) return 0;
    const t = tenant(store, orgId);
    const rec = await t.recoveries.get(recoveryId);
    if (!rec) return 0;
    if (rec.status === 'completed') return rec.recovered;
    const wh = await t.webhooks.get(rec.webhook_id);
    let recovered = rec.recovered;
    if (wh && rec.release) recovered = await releaseHeld(wh, rec, recovered, heartbeat);
    if (wh && rec.since) {
      // What ended failed or skipped in the window, and — if this task ran before and died — what it had set
      // pending but perhaps not re-delivered.
      const [ended, interrupted] = await Promise.all([t.deliveries.failedBetween(wh._id, rec.since, rec.until), t.deliveries.interruptedRetries(wh._id, rec._id)]);
      const todo = [...new Map([...interrupted, ...ended].map((d) => [d._id, d])).values()].sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
      for (const d of todo) {
        // An event whose payload was erased is never sent again.
        if ((await t.events.get(d.event_id))?.erased_at) continue;
        await control.retry(wh, d, { fullSchedule: true, by: rec._id });
        recovered++;
        if (recovered % 20 === 0) {
          heartbeat();
          await t.recoveries.progress(rec._id, recovered);
        }
      }
    }
    await t.recoveries.complete(rec._id, recovered);
    return recovered;
  }

  /**
   * Releases the held deliveries one at a time in publication order: each one's first attempt ends before the next
   * starts, so the receiver sees them in the order they were published. Stops if the webhook is paused again (the
   * rest stay held for the next resume). Restartable: what it marked but may not have started is started again.
   */
  async function releaseHeld(wh: WebhookDoc, rec: RecoveryDoc, recovered: number, heartbeat: () => void): Promise<number> {
    const t = tenant(store, wh.org_id);
    for (const d of await t.deliveries.toRelease(wh._id, rec._id)) {
      const now = await t.webhooks.get(wh._id);
      if (!now || now.status !== 'active') break;
      await control.release(now, d, rec._id);
      recovered++;
      const deadline = Date.now() + now.timeout_ms + 15_000;
      for (let i = 0; Date.now() < deadline; i++) {
        const cur = await t.deliveries.get(d._id);
        if (!cur || cur.attempt > 0 || cur.status !== 'pending') break;
        if (i % 20 === 0) heartbeat();
        await new Promise((r) => setTimeout(r, 20));
      }
      if (recovered % 20 === 0) {
        heartbeat();
        await t.recoveries.progress(rec._id, recovered);
      }
    }
    return recovered;
  }

  return { start, get, run };
}
