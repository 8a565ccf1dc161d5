import type { KeyId, OrgId } from '../../domain/ids.js';
import type { Store } from '../mongo.js';
import type { ApiKeyDoc, OrgDoc } from '../types.js';

// Organizations and their API keys: the operator's level, above any one tenant.
export function orgRepo(store: Store) {
  const { c } = store;
  return {
    get: (id: OrgId) => c.orgs.findOne({ _id: id }),
    byName: (name: string) => c.orgs.findOne({ name }),
    async insert(org: OrgDoc) {
      await c.orgs.insertOne(org);
    },
    keys: {
      /** A key by the SHA-256 of its secret (keys themselves are never stored). */
      byHash: (hash: string) => c.apiKeys.findOne({ hash }),
      async insert(doc: ApiKeyDoc) {
        await c.apiKeys.insertOne(doc);
      },
      async revoke(id: KeyId): Promise<boolean> {
        const res = await c.apiKeys.updateOne({ _id: id, revoked_at: null }, { $set: { revoked_at: new Date() } });
        return res.modifiedCount === 1;
      },
    },
  };
}
