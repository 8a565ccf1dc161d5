import { notFound, validationFailed } from '../errors.js';
import type { KeyId, OrgId } from '../domain/ids.js';
import type { Store } from '../storage/mongo.js';
import type { PageQuery } from '../storage/page.js';
import { orgRepo } from '../storage/repos/orgs.js';
import type { ApiKeyDoc, Role } from '../storage/types.js';
import type { ApplicationService } from './applications.js';
import { createKey, orgScope } from './orgs.js';

/** API keys of an organization, managed through the API by its admin keys. Organizations stay an operator's (CLI). */
export function keyService(deps: { store: Store; applications: ApplicationService }) {
  const { store, applications } = deps;
  return {
    /** Creates a key; the full key is in the answer only. An `application` key needs its application (id or uid). */
    async create(orgId: OrgId, f: { role: Role; application?: string | null; name?: string | null; expires_at?: string | null }) {
      if (f.role === 'application' && !f.application) throw validationFailed('an application key names its application', [{ path: 'application', message: 'required for role application' }]);
      if (f.role !== 'application' && f.application) throw validationFailed('only an application key has an application', [{ path: 'application', message: `not allowed for role ${f.role}` }]);
      const expiresAt = f.expires_at ? new Date(f.expires_at) : null;
      if (expiresAt && expiresAt.getTime() <= Date.now()) throw validationFailed('expires_at is in the past', [{ path: 'expires_at', message: 'must be in the future' }]);
      const app = f.application ? await applications.resolve(orgScope(orgId), f.application) : null;
      const { key, doc } = await createKey(store, orgId, f.role, { name: f.name ?? null, applicationId: app?._id ?? null, expiresAt });
      return { key, doc };
    },
    /**
     * A portal session: an application key that expires (default and limits from the configuration), named as a
     * session and kept out of the key list. Whoever holds it can do what an application key can, nothing more.
     */
    async portalSession(orgId: OrgId, appRef: string, ttlS: number) {
      const app = await applications.resolve(orgScope(orgId), appRef);
      const expiresAt = new Date(Date.now() + ttlS * 1000);
      const { key, doc } = await createKey(store, orgId, 'application', { name: 'portal session', applicationId: app._id, expiresAt, kind: 'portal_session' });
      return { id: doc._id, token: key, expires_at: expiresAt, application_id: app._id };
    },
    /** Ends a portal session of an application before it expires. */
    async endPortalSession(orgId: OrgId, appRef: string, id: KeyId): Promise<void> {
      const app = await applications.resolve(orgScope(orgId), appRef);
      const k = await orgRepo(store).keys.get(orgId, id);
      if (!k || k.revoked_at || k.kind !== 'portal_session' || k.application_id !== app._id) throw notFound('portal session');
      await orgRepo(store).keys.revoke(k._id);
    },
    list: (orgId: OrgId, q: PageQuery) => orgRepo(store).keys.page(orgId, {}, q),
    async get(orgId: OrgId, id: KeyId): Promise<ApiKeyDoc> {
      const k = await orgRepo(store).keys.get(orgId, id);
      if (!k || k.revoked_at) throw notFound('key');
      return k;
    },
    async revoke(orgId: OrgId, id: KeyId): Promise<void> {
      const k = await orgRepo(store).keys.get(orgId, id);
      if (!k || k.revoked_at) throw notFound('key');
      await orgRepo(store).keys.revoke(k._id);
    },
  };
}
