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

  async function start(wh: WebhookDoc, since: Date, until: Date | null): Promise<RecoveryDoc> {
    const rec: RecoveryDoc = {
      _id: newId('rcv'), org_id: wh.org_id, webhook_id: wh._id, since, until, status: 'running', recovered: 0,
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
    if (wh) {
      for (const d of await t.deliveries.failedBetween(wh._id, rec.since, rec.until)) {
        await control.retry(wh, d, { fullSchedule: true });
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

  return { start, get, run };
}
