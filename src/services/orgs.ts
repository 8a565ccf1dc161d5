import { newId, type AppId, type KeyId, type OrgId } from '../domain/ids.js';
import { generateApiKey, hashKey } from '../domain/keys.js';
import type { Store } from '../storage/mongo.js';
import { orgRepo } from '../storage/repos/orgs.js';
import type { ApiKeyDoc, OrgDoc, Role } from '../storage/types.js';
import { ensureBuiltinEventTypes } from './event-types.js';

export { generateApiKey };

/**
 * What a request may see: an organization, narrowed to one application for an application key
 * (`applicationId` null = the whole organization).
 */
export type Scope = { orgId: OrgId; applicationId: AppId | null };

export type Auth = Scope & { keyId: KeyId; role: Role };

/** An organization-wide scope (the CLI, the worker, operational events). */
export const orgScope = (orgId: OrgId): Scope => ({ orgId, applicationId: null });

/** Whether an object of application `appId` (null = organization-level) is visible in this scope. */
export const sees = (scope: Scope, appId: AppId | null | undefined) => scope.applicationId === null || scope.applicationId === (appId ?? null);

export async function createOrg(store: Store, name: string): Promise<OrgDoc> {
  const org: OrgDoc = { _id: newId('org'), name, created_at: new Date() };
  await orgRepo(store).insert(org);
  await ensureBuiltinEventTypes(store, org._id);
  return org;
}

export const getOrg = (store: Store, id: OrgId) => orgRepo(store).get(id);

export type KeyOptions = { name?: string | null; applicationId?: AppId | null; expiresAt?: Date | null; kind?: 'key' | 'portal_session' };

/** Returns the key in full: the only time it exists outside the caller's hands is now. */
export async function createKey(store: Store, orgId: OrgId, role: Role, opts: KeyOptions | string | null = null, key = generateApiKey()) {
  const o: KeyOptions = typeof opts === 'string' || opts === null ? { name: opts } : opts;
  if ((role === 'application') !== !!o.applicationId) throw new Error('an application key needs an application, and only it');
  const doc: ApiKeyDoc = {
    _id: newId('key'), org_id: orgId, role, hash: hashKey(key), prefix: key.slice(0, 8), name: o.name ?? null,
    application_id: o.applicationId ?? null, kind: o.kind ?? 'key', expires_at: o.expiresAt ?? null, last_used_at: null, created_at: new Date(), revoked_at: null,
  };
  await orgRepo(store).keys.insert(doc);
  return { id: doc._id, key, role, org_id: orgId, doc };
}

export const revokeKey = (store: Store, keyId: KeyId) => orgRepo(store).keys.revoke(keyId);

/** When a key's last use is written: at most once a minute per key and process. */
const TOUCH_EVERY_MS = 60_000;
const touched = new Map<KeyId, number>();

/** Who a bearer key is, or null for an unknown, revoked or expired key. */
export async function identify(store: Store, key: string): Promise<Auth | null> {
  const repo = orgRepo(store).keys;
  const doc = await repo.byHash(hashKey(key));
  if (!doc || doc.revoked_at || (doc.expires_at && doc.expires_at.getTime() <= Date.now())) return null;
  // An application key without its application would see the whole organization: refused.
  if (doc.role === 'application' && !doc.application_id) return null;
  const last = touched.get(doc._id) ?? 0;
  if (Date.now() - last > TOUCH_EVERY_MS) {
    if (touched.size > 10_000) touched.clear();
    touched.set(doc._id, Date.now());
    repo.touch(doc._id, new Date()).catch(() => {});
  }
  return { orgId: doc.org_id, keyId: doc._id, role: doc.role, applicationId: doc.role === 'application' ? (doc.application_id ?? null) : null };
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
