import type { OrgId, RecoveryId, WebhookId } from '../../domain/ids.js';
import type { Store } from '../mongo.js';
import type { RecoveryDoc } from '../types.js';

/** The recover tasks of one organization. */
export function recoveryRepo(store: Store, orgId: OrgId) {
  const { c } = store;
  return {
    async get(id: RecoveryId, webhookId?: WebhookId): Promise<RecoveryDoc | null> {
      const r = await c.recoveries.findOne({ _id: id });
      return r && r.org_id === orgId && (!webhookId || r.webhook_id === webhookId) ? r : null;
    },
    async insert(r: RecoveryDoc): Promise<void> {
      if (r.org_id !== orgId) throw new Error('recovery of another organization');
      await c.recoveries.insertOne(r);
    },
    async remove(id: RecoveryId): Promise<void> {
      await c.recoveries.deleteOne({ _id: id });
    },
    async progress(id: RecoveryId, recovered: number): Promise<void> {
      await c.recoveries.updateOne({ _id: id }, { $set: { recovered } });
    },
    async complete(id: RecoveryId, recovered: number): Promise<void> {
      await c.recoveries.updateOne({ _id: id }, { $set: { status: 'completed', recovered, completed_at: new Date() } });
    },
  };
}

/** The organization a recover task belongs to (the worker gets only its id from the workflow input). */
export async function recoveryOwner(store: Store, id: RecoveryId): Promise<OrgId | null> {
  return (await store.c.recoveries.findOne({ _id: id }))?.org_id ?? null;
}
