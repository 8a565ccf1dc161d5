import type { AppId, KeyId, OrgId } from '../../domain/ids.js';
import type { Store } from '../mongo.js';
import { findPage, type PageQuery } from '../page.js';
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
    async set(id: OrgId, fields: Partial<Pick<OrgDoc, 'egress_proxy_url' | 'retention_days'>>) {
      await c.orgs.updateOne({ _id: id }, { $set: fields });
    },
    all: () => c.orgs.find({}).toArray(),
    keys: {
      /** A key by the SHA-256 of its secret (keys themselves are never stored). */
      byHash: (hash: string) => c.apiKeys.findOne({ hash }),
      async insert(doc: ApiKeyDoc) {
        await c.apiKeys.insertOne(doc);
      },
      /** A key of this organization by id, or null. */
      async get(orgId: OrgId, id: KeyId): Promise<ApiKeyDoc | null> {
        const k = await c.apiKeys.findOne({ _id: id });
        return k && k.org_id === orgId ? k : null;
      },
      /** The organization's keys that are not revoked, newest first (optionally only one application's). */
      async page(orgId: OrgId, f: { applicationId?: AppId }, q: PageQuery) {
        const filter: Record<string, unknown> = { org_id: orgId, revoked_at: null, kind: { $ne: 'portal_session' } };
        if (f.applicationId) filter.application_id = f.applicationId;
        return findPage(c.apiKeys, filter, { created_at: -1 }, q);
      },
      async ofApplication(orgId: OrgId, applicationId: AppId): Promise<ApiKeyDoc[]> {
        return c.apiKeys.find({ org_id: orgId, application_id: applicationId, revoked_at: null }).toArray();
      },
      async revoke(id: KeyId): Promise<boolean> {
        const res = await c.apiKeys.updateOne({ _id: id, revoked_at: null }, { $set: { revoked_at: new Date() } });
        return res.modifiedCount === 1;
      },
      /** Best effort, by `_id`: when a key was last used (written at most once a minute per key by the caller). */
      async touch(id: KeyId, at: Date): Promise<void> {
        await c.apiKeys.updateOne({ _id: id }, { $set: { last_used_at: at } });
      },
    },
  };
}
