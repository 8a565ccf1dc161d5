import type { AppId, OrgId, WebhookId } from '../../domain/ids.js';
import { ulid } from '../../domain/ids.js';
import { isDuplicateKey, type Store } from '../mongo.js';
import { findPage, type PageQuery } from '../page.js';
import type { WebhookDoc, WebhookHeader, WebhookHealthDoc } from '../types.js';
import { isAlwaysSecretHeader } from '../../domain/secret-headers.js';
import type { Sealer } from '../../domain/seal.js';

/** `application`: that application's webhooks; null: only organization-level ones; absent: all. */
export type WebhookListFilter = { status?: 'active' | 'disabled'; uid?: string; event?: string; application?: AppId | null };
export type WebhookFields = Partial<Omit<WebhookDoc, '_id' | 'org_id' | 'created_at'>>;

/** A claim on a customer source's uid older than this, whose webhook never appeared, is released. */
const STALE_CLAIM_MS = 60_000;

/**
 * Records that the organization's webhooks (`rev`) or its event type catalog (`types_rev`) changed, in the one
 * revision document per organization that publishes read by `_id` to validate their caches. A random token rather
 * than a counter: FerretDB applies `$inc` as read-modify-write, so two concurrent changes could both write the same
 * count. Best effort: caches also reload after a minute.
 */
export async function touchRevision(store: Store, orgId: OrgId, field: 'rev' | 'types_rev'): Promise<void> {
  const set = { $set: { [field]: ulid(), updated_at: new Date() } };
  try {
    try {
      await store.c.webhookRevs.updateOne({ _id: orgId }, set, { upsert: true });
    } catch (err) {
      // FerretDB upserts as find-then-insert: a concurrent first change of the organization inserted it.
      if (!isDuplicateKey(err)) throw err;
      await store.c.webhookRevs.updateOne({ _id: orgId }, set);
    }
  } catch {
    // the change itself is stored
  }
}

/** Both revisions of an organization, in one read by `_id`. */
export async function revisions(store: Store, orgId: OrgId): Promise<{ webhooks: string; types: string }> {
  const doc = await store.b.findById('webhookRevs', orgId);
  return { webhooks: doc?.rev ?? 'initial', types: doc?.types_rev ?? 'initial' };
}

/**
 * The webhooks of one organization. Lookups by id read `{_id}` alone (the only filter FerretDB's SQLite backend
 * answers without a scan) and check the organization here, so another organization's webhook is never returned.
 * Every change writes a new revision of the organization's webhooks (see services/webhook-index.ts).
 */
export function webhookRepo(store: Store, orgId: OrgId) {
  const { c } = store;
  const sealed = sealFields(store);
  // Webhook uids are unique per application (organization-level webhooks: per organization, the original key form).
  const uidKey = (uid: string, appId: AppId | null | undefined) => (appId ? `${orgId}:${appId}:${uid}` : `${orgId}:${uid}`);

  async function get(id: WebhookId): Promise<WebhookDoc | null> {
    const wh = await store.b.findById('webhooks', id);
    return wh && wh.org_id === orgId ? sealed.open(wh) : null;
  }

  /**
   * Records that the organization's webhooks changed. A random token rather than a counter: FerretDB applies
   * `$inc` as read-modify-write, so two concurrent changes could both write the same count. Best effort: caches
   * also reload after a minute.
   */
  async function changed(): Promise<void> {
    await touchRevision(store, orgId, 'rev');
  }

  return {
    get,
    changed,
    async revision(): Promise<string> {
      return (await revisions(store, orgId)).webhooks;
    },
    /** Every webhook of the organization, active or not (matching an event records deliveries for paused ones too). */
    async all(): Promise<WebhookDoc[]> {
      return (await c.webhooks.find({ org_id: orgId }).toArray()).map(sealed.open);
    },
    async ofApplication(appId: AppId): Promise<WebhookDoc[]> {
      return (await c.webhooks.find({ org_id: orgId, application_id: appId }).toArray()).map(sealed.open);
    },
    async byIds(ids: WebhookId[]): Promise<WebhookDoc[]> {
      return (await c.webhooks.find({ _id: { $in: ids } }).toArray()).filter((w) => w.org_id === orgId).map(sealed.open);
    },
    async page(f: WebhookListFilter, q: PageQuery) {
      const filter: Record<string, unknown> = { org_id: orgId };
      if (f.status) filter.status = f.status;
      if (f.uid) filter.uid = f.uid;
      if (f.application !== undefined) filter.application_id = f.application;
      if (f.event) filter.$or = [{ events: null }, { events: f.event }, { events: '*' }, { events: `${f.event.split('.')[0]}.*` }];
      const page = await findPage(c.webhooks, filter, { created_at: -1 }, q);
      return { ...page, docs: page.docs.map(sealed.open) };
    },
    async insert(wh: WebhookDoc): Promise<void> {
      if (wh.org_id !== orgId) throw new Error('webhook of another organization');
      await c.webhooks.insertOne(sealed.seal(wh));
      await changed();
    },
    async replace(wh: WebhookDoc): Promise<void> {
      if (wh.org_id !== orgId) throw new Error('webhook of another organization');
      await c.webhooks.replaceOne({ _id: wh._id, org_id: orgId }, sealed.seal(wh));
      await changed();
    },
    async set(id: WebhookId, fields: WebhookFields): Promise<void> {
      await c.webhooks.updateOne({ _id: id, org_id: orgId }, { $set: { ...sealed.seal(fields), updated_at: new Date() } });
      await changed();
    },
    /** Disables the webhook only if it is still active; false if something else changed it first. */
    async disableIfActive(id: WebhookId, reason: 'gone' | 'failing'): Promise<boolean> {
      const res = await c.webhooks.updateOne({ _id: id, org_id: orgId, status: 'active' }, { $set: { status: 'disabled', disabled_reason: reason, updated_at: new Date() } });
      if (res.modifiedCount > 0) await changed();
      return res.modifiedCount > 0;
    },
    async remove(wh: WebhookDoc): Promise<void> {
      await c.webhooks.deleteOne({ _id: wh._id, org_id: orgId });
      await changed();
      await c.webhookFailing.deleteOne({ _id: wh._id });
      await c.webhookHealth.deleteOne({ _id: wh._id });
      if (wh.uid) await c.webhookUids.deleteOne({ _id: uidKey(wh.uid, wh.application_id) });
    },

    /**
     * "One webhook per customer source": the uid is claimed by a document keyed `<org>[:<app>]:<uid>` (a unique
     * _id), so it is unique within its application, or among the organization-level webhooks (`appId` null).
     */
    uids: {
      /** The webhook holding a uid. A claim left by a request that died before inserting its webhook is released. */
      async holder(uid: string, appId: AppId | null): Promise<WebhookDoc | null> {
        const claim = await c.webhookUids.findOne({ _id: uidKey(uid, appId) });
        if (!claim) return null;
        const wh = await get(claim.webhook_id);
        if (!wh && Date.now() - claim.created_at.getTime() > STALE_CLAIM_MS) await c.webhookUids.deleteOne({ _id: claim._id });
        return wh;
      },
      /** false if another webhook (or a request creating one right now) holds the uid. */
      async claim(uid: string, webhookId: WebhookId, appId: AppId | null): Promise<boolean> {
        try {
          await c.webhookUids.insertOne({ _id: uidKey(uid, appId), org_id: orgId, webhook_id: webhookId, created_at: new Date() });
          return true;
        } catch (err) {
          if (isDuplicateKey(err)) return false;
          throw err;
        }
      },
      async release(uid: string, appId: AppId | null): Promise<void> {
        await c.webhookUids.deleteOne({ _id: uidKey(uid, appId) });
      },
    },

    /**
     * Since when a webhook's attempts have failed without a success. Kept apart from the webhook document so
     * that attempts never write the webhook: FerretDB applies updates as read-modify-write of the whole document,
     * and an attempt's write could otherwise undo a concurrent pause or edit.
     */
    failing: {
      async since(id: WebhookId): Promise<Date | null> {
        return (await store.b.findById('webhookFailing', id))?.since ?? null;
      },
      async start(id: WebhookId, since: Date): Promise<void> {
        try {
          await c.webhookFailing.insertOne({ _id: id, org_id: orgId, since });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // a concurrent attempt started the clock first
        }
      },
      async clear(id: WebhookId): Promise<void> {
        await c.webhookFailing.deleteOne({ _id: id });
      },
    },

    /** Alerts about a webhook, each sent once: `claim` is true for the one caller that may send it. */
    alerts: {
      async claim(id: WebhookId, name: string): Promise<boolean> {
        try {
          await c.alerts.insertOne({ _id: `${id}:${name}`, org_id: orgId, created_at: new Date() });
          return true;
        } catch (err) {
          if (isDuplicateKey(err)) return false;
          throw err;
        }
      },
      async sent(id: WebhookId, name: string): Promise<boolean> {
        return (await c.alerts.findOne({ _id: `${id}:${name}` })) !== null;
      },
    },

    /** The hourly sums of a webhook's attempt outcomes (see WebhookHealthDoc); one read or write by `{_id}`. */
    health: {
      async get(id: WebhookId): Promise<WebhookHealthDoc | null> {
        const doc = await store.b.findById('webhookHealth', id);
        return doc && doc.org_id === orgId ? doc : null;
      },
      /**
       * Replaces the summary if it is still the one of `version` (its `updated_at`; null: there is none yet).
       * False when another writer got there first (the caller reads it again and adds its outcomes). On MongoDB one
       * atomic replace conditioned on `updated_at`. On FerretDB that condition is a scan of every webhook's summary
       * (143 ms per write at 100 webhooks against 10 ms by `_id`, measured) and not atomic anyway (Store.isFerret):
       * the version is compared on a read by `_id` and the replace goes by `_id`, the same guarantee for a fraction
       * of the cost.
       */
      async putIf(doc: WebhookHealthDoc, version: Date | null): Promise<boolean> {
        if (doc.org_id !== orgId) throw new Error('health of another organization');
        if (version === null) {
          try {
            await c.webhookHealth.insertOne(doc);
            return true;
          } catch (err) {
            if (isDuplicateKey(err)) return false;
            throw err;
          }
        }
        if (await store.isFerret()) {
          const stored = await store.b.findById('webhookHealth', doc._id);
          if (!stored || stored.updated_at?.getTime() !== version.getTime()) return false;
          return (await c.webhookHealth.replaceOne({ _id: doc._id }, doc)).matchedCount === 1;
        }
        return (await c.webhookHealth.replaceOne({ _id: doc._id, updated_at: version }, doc)).matchedCount === 1;
      },
    },
  };
}

export type WebhookRepo = ReturnType<typeof webhookRepo>;

/** A header is secret when marked so, or (stored before marks existed, or not marked by the caller) by its name. */
const isSecret = (h: WebhookHeader) => h.secret ?? isAlwaysSecretHeader(h.name);

/** The stored form of custom headers (from their plaintext): secret values sealed, the `secret` mark kept, nothing transient. */
function sealHeaders(sealer: Sealer, headers: WebhookHeader[]): WebhookHeader[] {
  return headers.map((h) => (isSecret(h) ? { name: h.name, value: sealer.seal(h.value), secret: true } : { name: h.name, value: h.value, secret: false }));
}

/**
 * Custom headers as read: secret values opened and marked. A secret value still in plaintext says so (`unsealed`):
 * stored before header values were sealed (no mark: never sealed), or while no encryption key was configured.
 */
function openHeaders(sealer: Sealer, headers: WebhookHeader[] | undefined): WebhookHeader[] {
  return (headers ?? []).map((h) => {
    if (!isSecret(h)) return { name: h.name, value: h.value, secret: false };
    const value = h.secret === true ? sealer.open(h.value) : h.value;
    const unsealed = sealer.enabled && (h.secret !== true || sealer.keyIdOf(h.value) === null);
    return { name: h.name, value, secret: true, ...(unsealed ? { unsealed: true } : {}) };
  });
}

/** The signing secrets and secret header values of a webhook document, sealed on the way in and opened on the way out. */
function sealFields(store: Store) {
  const { sealer } = store;
  return {
    seal<T extends Partial<WebhookDoc>>(doc: T): T {
      const out = { ...doc };
      if (typeof out.secret === 'string') out.secret = sealer.seal(out.secret);
      if (typeof out.previous_secret === 'string') out.previous_secret = sealer.seal(out.previous_secret);
      if (Array.isArray(out.headers)) out.headers = sealHeaders(sealer, out.headers);
      return out;
    },
    open(doc: WebhookDoc): WebhookDoc {
      return {
        ...doc,
        secret: sealer.open(doc.secret),
        previous_secret: doc.previous_secret === null ? null : sealer.open(doc.previous_secret),
        headers: openHeaders(sealer, doc.headers),
      };
    },
  };
}

/**
 * Seals every webhook secret, and every secret custom header value, again with the current key (after a key
 * rotation, or to seal values stored before encryption — or before header sealing — existed). Needs every key a
 * stored value was sealed with. Returns how many webhooks changed.
 */
export async function resealAllWebhookSecrets(store: Store): Promise<{ resealed: number; total: number }> {
  const { c, sealer } = store;
  if (!sealer.enabled) throw new Error('no encryption key is configured');
  let resealed = 0;
  let total = 0;
  for await (const wh of c.webhooks.find({}, { projection: { secret: 1, previous_secret: 1, headers: 1 } })) {
    total++;
    const stale = (v: string | null) => v !== null && sealer.keyIdOf(v) !== sealer.currentKeyId;
    const headers = wh.headers ?? [];
    const staleHeaders = headers.some((h) => isSecret(h) && (h.secret !== true || stale(h.value)));
    if (!stale(wh.secret) && !stale(wh.previous_secret) && !staleHeaders) continue;
    const set: Partial<WebhookDoc> = { secret: sealer.seal(sealer.open(wh.secret)) };
    if (wh.previous_secret !== null) set.previous_secret = sealer.seal(sealer.open(wh.previous_secret));
    if (staleHeaders) set.headers = sealHeaders(sealer, openHeaders(sealer, headers));
    await c.webhooks.updateOne({ _id: wh._id }, { $set: set });
    resealed++;
  }
  return { resealed, total };
}
