import type { AppId, OrgId } from '../../domain/ids.js';
import { isDuplicateKey, type Store } from '../mongo.js';
import { findPage, type PageQuery } from '../page.js';
import type { ApplicationDoc } from '../types.js';

/** A uid claim older than this whose application never appeared is released (its request died in between). */
const STALE_CLAIM_MS = 60_000;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The applications (the producer's customers) of one organization. Reads by id use `{_id}` alone and check the
 * organization here; a uid is claimed by a document keyed `<org>:<uid>`, so it is unique per organization.
 */
export function applicationRepo(store: Store, orgId: OrgId) {
  const { c } = store;
  const uidKey = (uid: string) => `${orgId}:${uid}`;
  const mine = (a: ApplicationDoc | null) => (a && a.org_id === orgId ? a : null);

  async function get(id: AppId): Promise<ApplicationDoc | null> {
    return mine(await c.applications.findOne({ _id: id }));
  }

  return {
    get,
    async byUid(uid: string): Promise<ApplicationDoc | null> {
      const claim = await c.applicationUids.findOne({ _id: uidKey(uid) });
      if (!claim) return null;
      const app = await get(claim.application_id);
      if (!app && Date.now() - claim.created_at.getTime() > STALE_CLAIM_MS) await c.applicationUids.deleteOne({ _id: claim._id, application_id: claim.application_id });
      return app;
    },
    /** Claims a uid for an application; false if another application holds it. */
    async claimUid(uid: string, id: AppId): Promise<boolean> {
      try {
        await c.applicationUids.insertOne({ _id: uidKey(uid), org_id: orgId, application_id: id, created_at: new Date() });
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const claim = await c.applicationUids.findOne({ _id: uidKey(uid) });
        return claim?.application_id === id;
      }
    },
    async releaseUid(uid: string): Promise<void> {
      await c.applicationUids.deleteOne({ _id: uidKey(uid) });
    },
    async page(f: { uid?: string; q?: string }, q: PageQuery) {
      const filter: Record<string, unknown> = { org_id: orgId };
      if (f.uid) filter.uid = f.uid;
      if (f.q) filter.name = { $regex: escapeRegex(f.q), $options: 'i' };
      return findPage(c.applications, filter, { created_at: -1 }, q);
    },
    async insert(app: ApplicationDoc): Promise<void> {
      if (app.org_id !== orgId) throw new Error('application of another organization');
      await c.applications.insertOne(app);
    },
    async set(id: AppId, fields: Partial<Omit<ApplicationDoc, '_id' | 'org_id' | 'created_at'>>): Promise<void> {
      await c.applications.updateOne({ _id: id }, { $set: { ...fields, updated_at: new Date() } });
    },
    async remove(app: ApplicationDoc): Promise<void> {
      await c.applications.deleteOne({ _id: app._id });
      if (app.uid) await c.applicationUids.deleteOne({ _id: uidKey(app.uid) });
    },
  };
}

export type ApplicationRepo = ReturnType<typeof applicationRepo>;
