import { createHash } from 'node:crypto';
import type Koa from 'koa';
import { forbidden, rateLimited, unauthenticated } from '../../errors.js';
import { guard, type Store } from '../../storage/mongo.js';
import type { Role } from '../../storage/types.js';
import { TokenBuckets } from '../../domain/token-bucket.js';

export type Auth = { orgId: string; keyId: string; role: Role };

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

const CACHE_MS = 5000;

/**
 * Bearer API keys, looked up by their SHA-256 (keys are never stored). Lookups are cached for 5 s, so a revoked
 * key stops working within 5 s on every API process. Also applies the per-key rate limit (token bucket).
 */
export function authenticate(store: Store, limit: { perSecond: number; burst: number }) {
  const cache = new Map<string, { auth: Auth | null; at: number }>();
  const buckets = new TokenBuckets();

  async function lookup(key: string): Promise<Auth | null> {
    const hash = hashKey(key);
    const hit = cache.get(hash);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.auth;
    const doc = await guard(() => store.c.apiKeys.findOne({ hash }));
    const auth = doc && !doc.revoked_at ? { orgId: doc.org_id, keyId: doc._id, role: doc.role } : null;
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { auth, at: Date.now() });
    return auth;
  }

  return (role: Role | 'any'): Koa.Middleware =>
    async (ctx, next) => {
      const header = ctx.get('authorization');
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw unauthenticated();
      const auth = await lookup(match[1]);
      if (!auth) throw unauthenticated('the API key is unknown or revoked');
      const waitMs = buckets.take(auth.keyId, limit.perSecond, limit.burst);
      if (waitMs > 0) throw rateLimited(Math.max(1, Math.ceil(waitMs / 1000)));
      if (role === 'admin' && auth.role !== 'admin') throw forbidden(`this endpoint needs an admin key; this key is a ${auth.role} key`);
      ctx.state.auth = auth;
      await next();
    };
}
