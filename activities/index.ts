import { Context } from '@temporalio/activity';
import { deliveryOwner } from '../src/storage/repos/deliveries.js';
import { tenant } from '../src/storage/tenant.js';
import type { DeliveryInput, RecoveryInput } from '../workflows/types.js';
import { createDeliver } from './deliver.js';
import type { ActivityDeps } from './deps.js';

export type { ActivityDeps };

/** Activities get their dependencies from this factory, never from module-level singletons. */
export function createActivities(deps: ActivityDeps) {
  return {
    deliver: createDeliver(deps),

    /**
     * Records a state the workflow reached without an attempt: held by a pause signal, or cancelled. (The workflow
     * passes only the delivery id — its histories must replay unchanged — so the owner is read from the delivery.)
     */
    async markDelivery(input: { deliveryId: DeliveryInput['deliveryId']; status: 'paused' | 'cancelled' }): Promise<void> {
      const orgId = await deliveryOwner(deps.store, input.deliveryId);
      if (orgId) await tenant(deps.store, orgId).deliveries.markHeldOrCancelled(input.deliveryId, input.status);
    },

    async runRecovery(input: RecoveryInput): Promise<number> {
      return deps.recoveries.run(input.recoveryId, () => Context.current().heartbeat());
    },
  };
}
