import { AppError, notFound } from '../errors.js';
import { newId, type AppId, type OrgId } from '../domain/ids.js';
import type { Store } from '../storage/mongo.js';
import type { PageQuery } from '../storage/page.js';
import { applicationRepo } from '../storage/repos/applications.js';
import { orgRepo } from '../storage/repos/orgs.js';
import { tenant } from '../storage/tenant.js';
import type { ApplicationDoc } from '../storage/types.js';
import type { Control } from './control.js';
import { sees, type Scope } from './orgs.js';

export type ApplicationInput = { uid?: string | null; name?: string; metadata?: Record<string, string>; rate_limit_per_s?: number | null };

/**
 * Applications: the producer's customers. Each has its own webhooks, events and delivery log; the event catalog is
 * the organization's. Anywhere an application is named, its id (`app_…`) or its uid is accepted.
 */
export function applicationService(deps: { store: Store; control: Control }) {
  const { store, control } = deps;

  /** The application a reference names (id, else uid), as this scope may see it; 404 otherwise. */
  async function resolve(scope: Scope, ref: string): Promise<ApplicationDoc> {
    const repo = applicationRepo(store, scope.orgId);
    const app = (ref.startsWith('app_') ? await repo.get(ref as AppId) : null) ?? (await repo.byUid(ref));
    if (!app || !sees(scope, app._id)) throw notFound('application');
    return app;
  }

  function fresh(orgId: OrgId, f: ApplicationInput & { name: string }): ApplicationDoc {
    const now = new Date();
    return {
      _id: newId('app'), org_id: orgId, uid: f.uid ?? null, name: f.name, metadata: f.metadata ?? {},
      rate_limit_per_s: f.rate_limit_per_s ?? null, created_at: now, updated_at: now,
    };
  }

  async function create(orgId: OrgId, f: ApplicationInput & { name: string }): Promise<ApplicationDoc> {
    const repo = applicationRepo(store, orgId);
    const app = fresh(orgId, f);
    if (app.uid && !(await repo.claimUid(app.uid, app._id))) {
      // A claim whose application never appeared (a request died between the two writes) is released by byUid.
      if (!(await repo.byUid(app.uid)) && (await repo.claimUid(app.uid, app._id))) {
        await repo.insert(app);
        return app;
      }
      throw new AppError(409, 'conflict', `an application with uid ${app.uid} exists; PUT /v1/applications/uid/${app.uid} updates it`);
    }
    await repo.insert(app);
    return app;
  }

  async function update(app: ApplicationDoc, f: ApplicationInput): Promise<ApplicationDoc> {
    const repo = applicationRepo(store, app.org_id);
    const set: Partial<ApplicationDoc> = {};
    if (f.name !== undefined) set.name = f.name;
    if (f.metadata !== undefined) set.metadata = f.metadata;
    if (f.rate_limit_per_s !== undefined) set.rate_limit_per_s = f.rate_limit_per_s;
    if (f.uid !== undefined && f.uid !== app.uid) {
      if (f.uid && !(await repo.claimUid(f.uid, app._id))) throw new AppError(409, 'conflict', `another application has uid ${f.uid}`);
      if (app.uid) await repo.releaseUid(app.uid);
      set.uid = f.uid;
    }
    await repo.set(app._id, set);
    return { ...app, ...set, updated_at: new Date() };
  }

  return {
    resolve,
    create,
    update,

    /** PUT by the producer's own customer id: creates (201) or updates (200) the application with this uid. */
    async upsert(orgId: OrgId, uid: string, f: ApplicationInput & { name: string }): Promise<{ app: ApplicationDoc; created: boolean }> {
      const repo = applicationRepo(store, orgId);
      for (let round = 0; round < 3; round++) {
        const existing = await repo.byUid(uid);
        if (existing) return { app: await update(existing, { ...f, uid }), created: false };
        try {
          return { app: await create(orgId, { ...f, uid }), created: true };
        } catch (err) {
          // A concurrent PUT of the same uid created it first: update that one.
          if (!(err instanceof AppError && err.status === 409)) throw err;
        }
      }
      throw new AppError(409, 'conflict', `application uid ${uid} is being registered by another request; retry`);
    },

    async list(scope: Scope, f: { uid?: string; q?: string }, q: PageQuery) {
      if (scope.applicationId) {
        const own = await applicationRepo(store, scope.orgId).get(scope.applicationId);
        const match = own && (!f.uid || own.uid === f.uid) && (!f.q || own.name.toLowerCase().includes(f.q.toLowerCase()));
        return { docs: match && q.page === 1 ? [own] : [], total: match ? 1 : 0 };
      }
      return applicationRepo(store, scope.orgId).page(f, q);
    },

    /**
     * Deletes an application: its webhooks are deleted (their open deliveries end `cancelled`), its keys revoked,
     * then the application itself. Safe to repeat if interrupted.
     */
    async remove(app: ApplicationDoc): Promise<void> {
      const t = tenant(store, app.org_id);
      for (const wh of await t.webhooks.ofApplication(app._id)) await control.remove(wh);
      const keys = orgRepo(store).keys;
      for (const k of await keys.ofApplication(app.org_id, app._id)) await keys.revoke(k._id);
      await applicationRepo(store, app.org_id).remove(app);
    },
  };
}

export type ApplicationService = ReturnType<typeof applicationService>;
