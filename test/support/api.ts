import { inject } from 'vitest';
import { openStore, type Store } from '../../src/storage/mongo.js';
import { createSealer, parseKey } from '../../src/domain/seal.js';
import { createKey, createOrg } from '../../src/services/orgs.js';
import type { Role } from '../../src/storage/types.js';

export type ApiResponse<T = any> = { status: number; body: T; headers: Headers };

export function stack() {
  return inject('stack');
}

/** A small HTTP client for the API under test. */
export function client(key: string, baseUrl = stack().apiUrl) {
  async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }
  return {
    key,
    call,
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body ?? {}, headers),
    put: <T = any>(path: string, body?: unknown) => call<T>('PUT', path, body ?? {}),
    patch: <T = any>(path: string, body?: unknown) => call<T>('PATCH', path, body ?? {}),
    del: <T = any>(path: string) => call<T>('DELETE', path),
  };
}
export type Client = ReturnType<typeof client>;

let store: Store | null = null;
export async function testStore(): Promise<Store> {
  const key = stack().env.HOOKRELAY_ENCRYPTION_KEY;
  store ??= await openStore(stack().mongoUrl, stack().mongoDb, createSealer(key ? [parseKey(key)] : []));
  return store;
}

/** A fresh organization with an admin key (and a publisher key): every test file works in its own org. */
export async function newOrg(name = 'test') {
  const s = await testStore();
  const org = await createOrg(s, `${name}-${Date.now()}`);
  const admin = await createKey(s, org._id, 'admin' as Role);
  const publisher = await createKey(s, org._id, 'publisher' as Role);
  return { org, admin: client(admin.key), publisher: client(publisher.key), adminKeyId: admin.id, publisherKeyId: publisher.id };
}

/** Polls until fn returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits on purpose, to show that nothing happens during `ms` (no request arrives, no state changes). The only
 * fixed waits in the suite; everything that waits for something to happen uses eventually().
 */
export async function quietFor(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Lets the clock move on by `ms`, so that timestamps before and after differ (e.g. a recover_since boundary). */
export const clockAdvances = quietFor;
