import type { OrgId } from '../domain/ids.js';
import type { Store } from '../storage/mongo.js';
import { webhookRepo } from '../storage/repos/webhooks.js';
import type { WebhookDoc } from '../storage/types.js';

const MAX_ORGS = 10_000;
/** Backstop: a change whose revision write failed is picked up after this long. */
const MAX_AGE_MS = 60_000;

/**
 * The webhooks of an organization (active or not), for matching events. Reading them is a query by `org_id` (a scan of
 * every webhook on FerretDB's SQLite backend); with the cache a publish reads one document by `_id` instead:
 * the revision every webhook change writes (storage/repos/webhooks.ts). The revision is read before the
 * webhooks: a change landing in between leaves the cache one revision behind, and the next publish reloads.
 */
export function createWebhookIndex(store: Store) {
  const cache = new Map<OrgId, { rev: string; loadedAt: number; webhooks: WebhookDoc[] }>();
  return {
    /** `rev`: the revision already read by the caller (a publish reads both of its organization's revisions at once). */
    async all(orgId: OrgId, knownRev?: string): Promise<WebhookDoc[]> {
      const repo = webhookRepo(store, orgId);
      const rev = knownRev ?? (await repo.revision());
      const hit = cache.get(orgId);
      if (hit && hit.rev === rev && Date.now() - hit.loadedAt < MAX_AGE_MS) return hit.webhooks;
      const loadedAt = Date.now();
      const webhooks = await repo.all();
      cache.delete(orgId);
      if (cache.size >= MAX_ORGS) cache.delete(cache.keys().next().value!);
      cache.set(orgId, { rev, loadedAt, webhooks });
      return webhooks;
    },
  };
}
