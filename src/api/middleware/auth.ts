import type Koa from 'koa';
import { forbidden, rateLimited, unauthenticated } from '../../errors.js';
import { hashKey } from '../../domain/keys.js';
import { TokenBuckets } from '../../domain/token-bucket.js';
import type { Access } from '../route.js';
import type { Auth } from '../../services/orgs.js';

const CACHE_MS = 5000;

/**
 * Bearer API keys, identified by the organization service (keys are stored only as their SHA-256). Lookups are
 * cached for 5 s by hash, so a revoked key stops working within 5 s on every API process. Also applies the
 * per-key rate limit (token bucket).
 */
export function authenticate(identify: (key: string) => Promise<Auth | null>, limit: { perSecond: number; burst: number }) {
  const cache = new Map<string, { auth: Auth | null; at: number }>();
  const buckets = new TokenBuckets();

  async function lookup(key: string): Promise<Auth | null> {
    const hash = hashKey(key);
    const hit = cache.get(hash);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.auth;
    const auth = await identify(key);
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { auth, at: Date.now() });
    return auth;
  }

  const allowed: Record<Access, string[]> = {
    admin: ['admin'], publish: ['admin', 'publisher'], manage: ['admin', 'application'], any: ['admin', 'publisher', 'application'],
  };
  const needs: Record<Access, string> = { admin: 'an admin key', publish: 'an admin or publisher key', manage: 'an admin or application key', any: 'a key' };

  return (access: Access): Koa.Middleware =>
    async (ctx, next) => {
      const header = ctx.get('authorization');
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw unauthenticated();
      const auth = await lookup(match[1]);
      if (!auth) throw unauthenticated('the API key is unknown or revoked');
      const waitMs = buckets.take(auth.keyId, limit.perSecond, limit.burst);
      if (waitMs > 0) throw rateLimited(Math.max(1, Math.ceil(waitMs / 1000)));
      if (!allowed[access].includes(auth.role)) throw forbidden(`this endpoint needs ${needs[access]}; this key is a ${auth.role} key`);
      ctx.state.auth = auth;
      await next();
    };
}
