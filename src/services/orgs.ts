import { randomBytes } from 'node:crypto';
import { newId } from '../domain/ids.js';
import { hashKey } from '../api/middleware/auth.js';
import type { Store } from '../storage/mongo.js';
import type { OrgDoc, Role } from '../storage/types.js';
import { ensureBuiltinEventTypes } from './event-types.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function generateApiKey(): string {
  const bytes = randomBytes(32);
  let s = '';
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return `hrk_${s}`;
}

export async function createOrg(store: Store, name: string): Promise<OrgDoc> {
  const org: OrgDoc = { _id: newId('org'), name, created_at: new Date() };
  await store.c.orgs.insertOne(org);
  await ensureBuiltinEventTypes(store, org._id);
  return org;
}

/** Returns the key in full: the only time it exists outside the caller's hands is now. */
export async function createKey(store: Store, orgId: string, role: Role, name: string | null = null, key = generateApiKey()) {
  const doc = { _id: newId('key'), org_id: orgId, role, hash: hashKey(key), prefix: key.slice(0, 8), name, created_at: new Date(), revoked_at: null };
  await store.c.apiKeys.insertOne(doc);
  return { id: doc._id, key, role, org_id: orgId };
}

export async function revokeKey(store: Store, keyId: string): Promise<boolean> {
  const res = await store.c.apiKeys.updateOne({ _id: keyId, revoked_at: null }, { $set: { revoked_at: new Date() } });
  return res.modifiedCount === 1;
}

/**
 * First start with an empty database: organization "default" and an admin key, returned once. With ADMIN_KEY set,
 * that key is the admin key (so a compose stack or a test can know it in advance).
 */
export async function bootstrap(store: Store, adminKey?: string): Promise<{ org: OrgDoc; key: string } | null> {
  const existing = await store.c.orgs.findOne({ name: 'default' });
  if (existing) {
    if (adminKey && !(await store.c.apiKeys.findOne({ hash: hashKey(adminKey) }))) await createKey(store, existing._id, 'admin', 'ADMIN_KEY', adminKey);
    return null;
  }
  const org = await createOrg(store, 'default');
  const { key } = await createKey(store, org._id, 'admin', 'bootstrap', adminKey);
  return { org, key };
}
