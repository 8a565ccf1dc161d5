import { newId, type KeyId, type OrgId } from '../domain/ids.js';
import { generateApiKey, hashKey } from '../domain/keys.js';
import type { Store } from '../storage/mongo.js';
import { orgRepo } from '../storage/repos/orgs.js';
import type { OrgDoc, Role } from '../storage/types.js';
import { ensureBuiltinEventTypes } from './event-types.js';

export { generateApiKey };

export type Auth = { orgId: OrgId; keyId: KeyId; role: Role };

export async function createOrg(store: Store, name: string): Promise<OrgDoc> {
  const org: OrgDoc = { _id: newId('org'), name, created_at: new Date() };
  await orgRepo(store).insert(org);
  await ensureBuiltinEventTypes(store, org._id);
  return org;
}

export const getOrg = (store: Store, id: OrgId) => orgRepo(store).get(id);

/** Returns the key in full: the only time it exists outside the caller's hands is now. */
export async function createKey(store: Store, orgId: OrgId, role: Role, name: string | null = null, key = generateApiKey()) {
  const doc = { _id: newId('key'), org_id: orgId, role, hash: hashKey(key), prefix: key.slice(0, 8), name, created_at: new Date(), revoked_at: null };
  await orgRepo(store).keys.insert(doc);
  return { id: doc._id, key, role, org_id: orgId };
}

export const revokeKey = (store: Store, keyId: KeyId) => orgRepo(store).keys.revoke(keyId);

/** Who a bearer key is, or null for an unknown or revoked key. */
export async function identify(store: Store, key: string): Promise<Auth | null> {
  const doc = await orgRepo(store).keys.byHash(hashKey(key));
  return doc && !doc.revoked_at ? { orgId: doc.org_id, keyId: doc._id, role: doc.role } : null;
}

/**
 * First start with an empty database: organization "default" and an admin key, returned once. With ADMIN_KEY set,
 * that key is the admin key (so a compose stack or a test can know it in advance).
 */
export async function bootstrap(store: Store, adminKey?: string): Promise<{ org: OrgDoc; key: string } | null> {
  const orgs = orgRepo(store);
  const existing = await orgs.byName('default');
  if (existing) {
    if (adminKey && !(await orgs.keys.byHash(hashKey(adminKey)))) await createKey(store, existing._id, 'admin', 'ADMIN_KEY', adminKey);
    return null;
  }
  const org = await createOrg(store, 'default');
  const { key } = await createKey(store, org._id, 'admin', 'bootstrap', adminKey);
  return { org, key };
}
