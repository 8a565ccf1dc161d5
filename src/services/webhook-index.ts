import { ulid } from '../domain/ids.js';
import { isDuplicateKey, type Store } from '../storage/mongo.js';
import type { WebhookDoc } from '../storage/types.js';

const MAX_ORGS = 10_000;
/** Backstop: a change whose revision write failed is picked up after this long. */
const MAX_AGE_MS = 60_000;

/**
 * Records that an organization's webhooks changed (created, edited, paused, resumed, deleted). Every API process
 * compares this revision before using its cached webhook list, so a change is seen by the very next publish.
 * A random token rather than a counter: FerretDB applies `$inc` as read-modify-write, so two concurrent changes
 * could both write the same count; two tokens are always different from the one a cache holds.
 */
export async function markWebhooksChanged(store: Store, orgId: string): Promise<void> {
  const set = { $set: { rev: ulid(), updated_at: new Date() } };
  try {
    try {
      await store.c.webhookRevs.updateOne({ _id: orgId }, set, { upsert: true });
    } catch (err) {
      // FerretDB upserts as find-then-insert: a concurrent first change of the organization inserted it.
      if (!isDuplicateKey(err)) throw err;
      await store.c.webhookRevs.updateOne({ _id: orgId }, set);
    }
  } catch {
    // Best effort: the change itself is stored, and caches reload after MAX_AGE_MS regardless.
  }
}

/**
 * The active webhooks of an organization, for matching events. Reading them is a query by `org_id` (a scan of
 * every webhook on FerretDB's SQLite backend); with the cache a publish reads one document by `_id` instead.
 * The revision is read before the webhooks: a change landing in between leaves the cache one revision behind,
 * and the next publish reloads.
 */
export function createWebhookIndex(store: Store) {
  const cache = new Map<string, { rev: string; loadedAt: number; webhooks: WebhookDoc[] }>();
  return {
    async active(orgId: string): Promise<WebhookDoc[]> {
      const rev = (await store.c.webhookRevs.findOne({ _id: orgId }))?.rev ?? 'initial';
      const hit = cache.get(orgId);
      if (hit && hit.rev === rev && Date.now() - hit.loadedAt < MAX_AGE_MS) return hit.webhooks;
      const loadedAt = Date.now();
      const webhooks = await store.c.webhooks.find({ org_id: orgId, status: 'active' }).toArray();
      cache.delete(orgId);
      if (cache.size >= MAX_ORGS) cache.delete(cache.keys().next().value!);
      cache.set(orgId, { rev, loadedAt, webhooks });
      return webhooks;
    },
  };
}
