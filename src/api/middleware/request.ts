import type Koa from 'koa';
import { newId } from '../../domain/ids.js';
import { payloadTooLarge, unsupportedMediaType, validationFailed } from '../../errors.js';

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
export function jsonBody(limitFor: (path: string) => number): Koa.Middleware {
  return async (ctx, next) => {
    let read: Promise<unknown> | null = null;
    ctx.state.readBody = () => (read ??= readJson(ctx, limitFor(ctx.path)));
    return next();
  };
}

async function readJson(ctx: Koa.Context, limit: number): Promise<unknown> {
  if (!['POST', 'PUT', 'PATCH'].includes(ctx.method)) return undefined;
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw payloadTooLarge(limit);
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
