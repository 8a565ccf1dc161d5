import type Koa from 'koa';
import { newId } from '../../domain/ids.js';
import { overloaded, payloadTooLarge, unsupportedMediaType, validationFailed } from '../../errors.js';

/** Every response carries x-request-id; JSON bodies get a request_id field with the same value. */
export function requestId(): Koa.Middleware {
  return async (ctx, next) => {
    const id = newId('req');
    ctx.state.requestId = id;
    ctx.set('x-request-id', id);
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (body && typeof body === 'object' && !Array.isArray(body) && !Buffer.isBuffer(body) && typeof (body as { pipe?: unknown }).pipe !== 'function') {
      if (!('request_id' in body)) body.request_id = id;
    }
  };
}

/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * The first place where `value` nests deeper than `max` levels, or null. Iterative: a body nested 10,000 levels
 * is answered 400, never a stack overflow.
 */
export function tooDeep(value: unknown, max = MAX_JSON_DEPTH): string | null {
  // Each entry keeps its parent and key; the path is built only for the one node that is too deep.
  type Node = { v: unknown; depth: number; parent: Node | null; key: string };
  const stack: Node[] = [{ v: value, depth: 0, parent: null, key: '' }];
  while (stack.length) {
    const node = stack.pop()!;
    const { v, depth } = node;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) {
      const keys: string[] = [];
      for (let n: Node | null = node; n && n.parent; n = n.parent) keys.unshift(n.key);
      return keys.join('.') || '(body)';
    }
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push({ v: v[i], depth: depth + 1, parent: node, key: String(i) });
    else for (const k in v) stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1, parent: node, key: k });
  }
  return null;
}

/**
 * Prepares a lazy JSON body reader (ctx.state.readBody): a route reads the body only after authenticating the
 * caller, so an unauthenticated request is answered 401 without its body being read. The reader enforces the
 * size limit (413), the media type (415), valid JSON, a JSON value that is not null, and the nesting limit (400).
 */
export function jsonBody(limitFor: (path: string) => number, budget: BodyBudget = bodyBudget(Infinity)): Koa.Middleware {
  return async (ctx, next) => {
    let read: Promise<unknown> | null = null;
    let held = 0;
    ctx.state.readBody = () => (read ??= readJson(ctx, limitFor(ctx.path), (n) => {
      if (!budget.take(n, held)) throw overloaded();
      held += n;
    }));
    try {
      return await next();
    } finally {
      // The body and what was parsed from it are garbage once the answer is written.
      budget.give(held);
    }
  };
}

/**
 * Bytes of request bodies this process holds at once (read, parsed, being handled). Bodies are the one input whose
 * memory a caller chooses (up to 8 MiB a batch, several times that once parsed): without a bound, enough concurrent
 * large requests exhaust the heap and stop the process for every tenant. A body that would take the total over the
 * bound is answered 503 `overloaded` (Retry-After: 1) before anything is done — unless it is small (≤ 64 KiB: an
 * ordinary publish is never refused because others sent large batches) or no other body is held (one always passes).
 */
export type BodyBudget = { readonly used: number; take(n: number, heldByThisRequest: number): boolean; give(n: number): void };
export const SMALL_BODY = 64 * 1024;
export function bodyBudget(max: number): BodyBudget {
  let used = 0;
  return {
    get used() {
      return used;
    },
    take(n, mine) {
      const othersHold = used - mine > 0;
      if (othersHold && mine + n > SMALL_BODY && used + n > max) return false;
      used += n;
      return true;
    },
    give(n) {
      used -= n;
    },
  };
}

async function readJson(ctx: Koa.Context, limit: number, reserve: (bytes: number) => void): Promise<unknown> {
  if (!['POST', 'PUT', 'PATCH'].includes(ctx.method)) return undefined;
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw payloadTooLarge(limit);
  // A declared length is reserved before reading; a chunked body as it arrives.
  if (declared > 0) reserve(declared);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw payloadTooLarge(limit);
    const beyond = Math.min((chunk as Buffer).length, size - declared);
    if (beyond > 0) reserve(beyond);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  if (!ctx.is('application/json', 'application/*+json')) throw unsupportedMediaType();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw validationFailed('request body is not valid JSON', [{ path: '(body)', message: (err as Error).message }]);
  }
  if (body === null) throw validationFailed('request body must be a JSON object', [{ path: '(body)', message: 'null is not an object' }]);
  const deep = tooDeep(body);
  if (deep) throw validationFailed(`request body nests deeper than ${MAX_JSON_DEPTH} levels`, [{ path: deep, message: `nested deeper than ${MAX_JSON_DEPTH} levels` }]);
  return body;
}
