import { Context } from '@temporalio/activity';
import { deliveryOwner } from '../src/storage/repos/deliveries.js';
import { tenant } from '../src/storage/tenant.js';
import type { DeliverRequest, DeliveryInput, RecoveryInput } from '../workflows/types.js';
import { createDeliver } from './deliver.js';
import { retentionRound, type RetentionTotals } from '../src/services/retention.js';
import type { ActivityDeps } from './deps.js';

export type { ActivityDeps };

/** Activities get their dependencies from this factory, never from module-level singletons. */
export function createActivities(deps: ActivityDeps) {
  const deliver = createDeliver(deps);
  return {
    deliver: (req: DeliverRequest) => deliver(req),

    /**
     * Records a state the workflow reached without an attempt: held by a pause signal, or cancelled. (The workflow
     * passes only the delivery id — its histories must replay unchanged — so the owner is read from the delivery.)
     */
    async markDelivery(input: { deliveryId: DeliveryInput['deliveryId']; status: 'paused' | 'cancelled' }): Promise<void> {
      // Out of the fairness gate's line: a held or cancelled delivery is not waiting to be sent.
      deliver.forget(input.deliveryId);
      const orgId = await deliveryOwner(deps.store, input.deliveryId);
      if (orgId) await tenant(deps.store, orgId).deliveries.markHeldOrCancelled(input.deliveryId, input.status);
    },

    async runRecovery(input: RecoveryInput): Promise<number> {
      return deps.recoveries.run(input.recoveryId, () => Context.current().heartbeat());
    },

    /** One bounded round of the retention cleanup (workflows/retention.ts); totals go to the worker's metrics. */
    async runRetention(): Promise<RetentionTotals> {
      const r = await retentionRound(deps.store, { defaultDays: deps.config.retention.days, batch: 500 });
      for (const kind of ['events', 'deliveries', 'attempts', 'recoveries', 'idempotency_keys'] as const) deps.metrics?.retentionDeleted(kind, r[kind]);
      if (r.events + r.deliveries + r.attempts + r.recoveries > 0) deps.log.info({ ...r }, 'retention round');
      return r;
    },
  };
}
