import { Context } from '@temporalio/activity';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/log.js';
import type { Store } from '../src/storage/mongo.js';
import type { WebhookDoc } from '../src/storage/types.js';
import type { Control } from '../src/services/control.js';
import type { RecoveryInput } from '../workflows/types.js';
import { createDeliver } from './deliver.js';
import type { Sender } from './http.js';

export type ActivityDeps = {
  store: Store;
  sender: Sender;
  config: Config;
  log: Logger;
  control: Control;
  disableWebhook(wh: WebhookDoc, reason: 'gone' | 'failing'): Promise<void>;
};

/** Activities get their dependencies from this factory, never from module-level singletons. */
export function createActivities(deps: Omit<ActivityDeps, 'disableWebhook'>) {
  const full: ActivityDeps = { ...deps, disableWebhook: (wh, reason) => deps.control.disableAutomatically(wh, reason) };
  return {
    deliver: createDeliver(full),

    /** Records a state the workflow reached without an attempt: held by a pause signal, or cancelled. */
    async markDelivery(input: { deliveryId: string; status: 'paused' | 'cancelled' }): Promise<void> {
      const d = await deps.store.c.deliveries.findOne({ _id: input.deliveryId });
      if (!d || (d.status !== 'pending' && d.status !== 'paused') || d.status === input.status) return;
      const now = new Date();
      await deps.store.c.deliveries.updateOne(
        { _id: input.deliveryId },
        { $set: { status: input.status, next_attempt_at: null, ended_at: input.status === 'cancelled' ? now : null, updated_at: now } },
      );
    },

    async runRecovery(input: RecoveryInput): Promise<number> {
      return deps.control.runRecovery(input.recoveryId, () => Context.current().heartbeat());
    },
  };
}
