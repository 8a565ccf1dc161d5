import { AppError, notFound, validationFailed } from '../../errors.js';
import type { AppId, OrgId, WebhookId } from '../../domain/ids.js';
import type { HealthStatus } from '../../domain/health.js';
import type { Store } from '../../storage/mongo.js';
import type { PageQuery } from '../../storage/page.js';
import type { WebhookListFilter } from '../../storage/repos/webhooks.js';
import { tenant } from '../../storage/tenant.js';
import type { AttemptDoc, DeliveryDoc, EventDoc, RecoveryDoc, WebhookDoc } from '../../storage/types.js';
import type { Control } from '../control.js';
import { webhookHealth } from '../health.js';
import type { Recoveries } from '../recoveries.js';
import type { ApplicationService } from '../applications.js';
import { sees, type Scope } from '../orgs.js';
import { applyFields, checkFields, newWebhook, rotation, type TargetPolicy, type WebhookInput } from './fields.js';

export type WebhookWithHealth = { webhook: WebhookDoc; health: HealthStatus };
export type RecentDelivery = { delivery: DeliveryDoc; event?: EventDoc; attempts: AttemptDoc[] };

/** The webhook resource: create, register by uid, list, read, change (incl. pause/resume/recover), delete. */
export function webhookService(deps: { store: Store; control: Control; recoveries: Recoveries; applications: ApplicationService; policy: TargetPolicy }) {
  const { store, control, recoveries, applications, policy } = deps;

  /** A webhook this scope may see (an application key sees only its application's); 404 otherwise. */
  async function load(scope: Scope, id: WebhookId): Promise<WebhookDoc> {
    const wh = await tenant(store, scope.orgId).webhooks.get(id);
    if (!wh || !sees(scope, wh.application_id)) throw notFound('webhook');
    return wh;
  }

  /**
   * The application a new webhook belongs to: the one named (id or uid), which an application key may only name
   * as its own; an application key's webhooks are always its application's. null = organization-level.
   */
  async function ownerOf(scope: Scope, ref: string | null | undefined): Promise<AppId | null> {
    if (ref) return (await applications.resolve(scope, ref))._id;
    return scope.applicationId;
  }
  const withHealth = async (wh: WebhookDoc): Promise<WebhookWithHealth> => ({ webhook: wh, health: await webhookHealth(store, wh.org_id, wh._id) });
  const requireUrl = (f: WebhookInput): f is WebhookInput & { url: string } => {
    if (f.url === undefined) throw validationFailed('url is required', [{ path: 'url', message: 'required' }]);
    return true;
  };

  return {
    load,

    async create(scope: Scope, f: WebhookInput & { application?: string | null }): Promise<{ webhook: WebhookDoc; deprecations: string[] }> {
      const { orgId } = scope;
      requireUrl(f);
      const appId = await ownerOf(scope, f.application);
      const deprecations = await checkFields(store, orgId, f, policy);
      const wh = { ...newWebhook(orgId, f as WebhookInput & { url: string }, policy), application_id: appId };
      const repo = tenant(store, orgId).webhooks;
      if (wh.uid && !(await repo.uids.claim(wh.uid, wh._id, appId))) {
        await repo.uids.holder(wh.uid, appId); // releases a stale claim for the next try
        throw new AppError(409, 'conflict', `a webhook with uid ${wh.uid} exists; PUT /v1/webhooks/uid/${wh.uid} replaces it`);
      }
      await repo.insert(wh);
      return { webhook: wh, deprecations };
    },

    /**
     * One webhook per customer source: creates the webhook with this uid, or replaces the configuration of the
     * one that holds it (fields left out return to their defaults; the secret stays unless given).
     */
    async register(scope: Scope, uid: string, f: WebhookInput & { application?: string | null }): Promise<{ webhook: WebhookDoc; created: boolean; health: HealthStatus; deprecations: string[] }> {
      const { orgId } = scope;
      requireUrl(f);
      const appId = await ownerOf(scope, f.application);
      const deprecations = await checkFields(store, orgId, f, policy);
      const repo = tenant(store, orgId).webhooks;
      // Uids are per application: the holder, if any, is a webhook of the same application.
      let existing = await repo.uids.holder(uid, appId);
      if (!existing) {
        const wh = { ...newWebhook(orgId, { ...(f as WebhookInput & { url: string }), uid }, policy), application_id: appId };
        if (await repo.uids.claim(uid, wh._id, appId)) {
          await repo.insert(wh);
          return { webhook: wh, created: true, health: 'unknown', deprecations };
        }
        // A concurrent registration of the same uid won: this one replaces what it created.
        for (let i = 0; i < 40 && !existing; i++) {
          existing = await repo.uids.holder(uid, appId);
          if (!existing) await new Promise((r) => setTimeout(r, 50));
        }
        if (!existing) throw new AppError(409, 'conflict', `webhook uid ${uid} is being registered by another request; retry`);
      }
      const fresh = newWebhook(orgId, { ...(f as WebhookInput & { url: string }), uid }, policy, existing);
      const replaced: WebhookDoc = {
        ...fresh,
        _id: existing._id,
        application_id: existing.application_id ?? null,
        secret: f.secret ?? existing.secret,
        previous_secret: existing.previous_secret,
        previous_secret_expires_at: existing.previous_secret_expires_at,
        status: existing.status,
        disabled_reason: existing.disabled_reason,
        created_at: existing.created_at,
      };
      await repo.replace(replaced);
      return { webhook: replaced, created: false, health: await webhookHealth(store, orgId, replaced._id), deprecations };
    },

    /** `application` (id or uid) narrows to one application's webhooks; an application key sees only its own. */
    async list(scope: Scope, f: Omit<WebhookListFilter, 'application'> & { application?: string }, q: PageQuery): Promise<{ items: WebhookWithHealth[]; total: number }> {
      const application = f.application ? (await applications.resolve(scope, f.application))._id : (scope.applicationId ?? undefined);
      const { docs, total } = await tenant(store, scope.orgId).webhooks.page({ ...f, application }, q);
      return { items: await Promise.all(docs.map(withHealth)), total };
    },

    /** The webhook with its 10 most recent deliveries, each with its event and attempts. */
    async get(scope: Scope, id: WebhookId): Promise<WebhookWithHealth & { recent: RecentDelivery[] }> {
      const t = tenant(store, scope.orgId);
      const wh = await load(scope, id);
      const recent = await t.deliveries.recent(wh._id, 10);
      const [events, attempts] = await Promise.all([t.events.byIds(recent.map((d) => d.event_id)), t.deliveries.attempts.ofMany(recent.map((d) => d._id))]);
      const eventById = new Map(events.map((e) => [e._id, e]));
      return {
        ...(await withHealth(wh)),
        recent: recent.map((d) => ({ delivery: d, event: eventById.get(d.event_id), attempts: attempts.filter((a) => a.delivery_id === d._id) })),
      };
    },

    /** PATCH: fields, then `disabled` (pause/resume), then `recover_since` (a recovery). */
    async update(scope: Scope, id: WebhookId, f: WebhookInput & { disabled?: boolean; recover_since?: string }) {
      const { orgId } = scope;
      const repo = tenant(store, orgId).webhooks;
      const wh = await load(scope, id);
      const deprecations = await checkFields(store, orgId, f, policy);
      const set = applyFields(f, wh);
      if (f.uid !== undefined && f.uid !== wh.uid) {
        const appId = wh.application_id ?? null;
        if (f.uid && !(await repo.uids.claim(f.uid, wh._id, appId))) throw new AppError(409, 'conflict', `another webhook has uid ${f.uid}`);
        if (wh.uid) await repo.uids.release(wh.uid, appId);
      }
      if (f.secret) Object.assign(set, rotation(wh, f.secret));
      await repo.set(wh._id, set);
      let recovery: RecoveryDoc | undefined;
      if (f.disabled === true && wh.status === 'active') await control.pause(wh, 'user');
      const resumed = f.disabled === false && wh.status === 'disabled';
      if (resumed) await control.resume(wh);
      // Resuming releases what was held while paused (in publication order), then recovers since recover_since.
      if (resumed || f.recover_since) {
        recovery = await recoveries.start(wh, f.recover_since ? new Date(f.recover_since) : null, null, { release: resumed });
      }
      return { ...(await withHealth(await load(scope, wh._id))), recovery, deprecations };
    },

    async remove(scope: Scope, id: WebhookId): Promise<void> {
      await control.remove(await load(scope, id));
    },
  };
}

export type WebhookService = ReturnType<typeof webhookService>;
