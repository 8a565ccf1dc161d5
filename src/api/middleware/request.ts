import { isUtf8 } from 'node:buffer';
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
  // The common case (not too deep) walks only the objects and arrays, allocating nothing per value: 40,000 numbers
  // in an array are one step each (this check took 11 ms for them, on the event loop, when it kept a path per value).
  const values: unknown[] = [value];
  const depths: number[] = [0];
  let found = false;
  while (values.length && !found) {
    const v = values.pop() as object;
    const depth = depths.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) found = true;
    else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (v[i] !== null && typeof v[i] === 'object') values.push(v[i]), depths.push(depth + 1);
    } else {
      for (const k in v) {
        const c = (v as Record<string, unknown>)[k];
        if (c !== null && typeof c === 'object') values.push(c), depths.push(depth + 1);
      }
    }
  }
  return found ? pathTooDeep(value, max) : null;
}

/** The path of the first place where `value` nests deeper than `max` (there is one). */
function pathTooDeep(value: unknown, max: number): string | null {
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
  const bytes = Buffer.concat(chunks);
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  // application/json only (parameters such as charset=utf-8 aside): not application/*+json, whose rules differ.
  if (!ctx.is('application/json')) throw unsupportedMediaType();
  // JSON is UTF-8: a body that is not would be stored with U+FFFD in place of what was sent.
  if (!isUtf8(bytes)) throw notUtf8(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw validationFailed('request body is not valid JSON', [{ path: '(body)', message: (err as Error).message }]);
  }
  if (body === null) throw validationFailed('request body must be a JSON object', [{ path: '(body)', message: 'null is not an object' }]);
  const deep = tooDeep(body);
  if (deep) throw validationFailed(`request body nests deeper than ${MAX_JSON_DEPTH} levels`, [{ path: deep, message: `nested deeper than ${MAX_JSON_DEPTH} levels` }]);
  // An escaped lone surrogate ("\ud800") is valid UTF-8 text but not a Unicode string: stored, it would become U+FFFD.
  if (/\\u[dD][89a-fA-F]/.test(text)) {
    const bad = illFormedString(body);
    if (bad) throw validationFailed('request body has a string that is not valid Unicode (a lone surrogate escape)', [{ path: bad, message: 'lone UTF-16 surrogate (\\ud800–\\udfff not in a pair)' }]);
  }
  return body;
}

/** 400 naming where a body stops being UTF-8: the JSON path of the value (or key) it is in, and the byte offset. */
function notUtf8(bytes: Buffer) {
  const at = firstInvalidUtf8(bytes);
  const path = at < 0 ? '(body)' : jsonPathAt(bytes.subarray(0, at).toString('utf8'));
  const where = at < 0 ? '' : ` at byte ${at}`;
  return validationFailed(`request body is not valid UTF-8${where}`, [{ path, message: `not valid UTF-8${where}` }]);
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let n: number, min: number, max = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) { n = 1; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; min = c === 0xe0 ? 0xa0 : 0x80; if (c === 0xed) max = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; min = c === 0xf0 ? 0x90 : 0x80; if (c === 0xf4) max = 0x8f; }
    else return i;
    if (i + n >= b.length) return i; // cut short
    if (b[i + 1] < min || b[i + 1] > max) return i;
    for (let k = 2; k <= n; k++) if (b[i + k] < 0x80 || b[i + k] > 0xbf) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * Where the end of a (valid) prefix of a JSON text is: the dotted path of the value or key being read there, as
 * the API's error details name paths (`data.s`, `events.3.data`), or `(body)` at the top.
 */
export function jsonPathAt(prefix: string): string {
  type Frame = { array: boolean; index: number; key: string | null; readingKey: boolean };
  const stack: Frame[] = [];
  let inString = false;
  let str = '';
  for (let i = 0; i < prefix.length; i++) {
    const ch = prefix[i];
    const top = stack[stack.length - 1];
    if (inString) {
      if (ch === '\\') { str += prefix[i + 1] ?? ''; i++; }
      else if (ch === '"') { inString = false; if (top && !top.array && top.readingKey) { top.key = str; top.readingKey = false; } }
      else str += ch;
      continue;
    }
    if (ch === '"') { inString = true; str = ''; }
    else if (ch === '{') stack.push({ array: false, index: 0, key: null, readingKey: true });
    else if (ch === '[') stack.push({ array: true, index: 0, key: null, readingKey: false });
    else if (ch === '}' || ch === ']') stack.pop();
    else if (ch === ',' && top) { if (top.array) top.index++; else { top.readingKey = true; top.key = null; } }
  }
  const parts: string[] = [];
  for (const f of stack) {
    if (f.array) parts.push(String(f.index));
    else if (f.readingKey) { if (inString && f === stack[stack.length - 1]) parts.push(str); break; }
    else if (f.key !== null) parts.push(f.key);
  }
  return parts.join('.') || '(body)';
}

const wellFormed = (s: string) => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** The path of the first string (value or key) that is not well-formed UTF-16, or null. */
function illFormedString(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (!wellFormed(v)) return path || '(body)';
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push([v[i], join(path, String(i))]);
    else for (const k in v) {
      if (!wellFormed(k)) return join(path, k);
      stack.push([(v as Record<string, unknown>)[k], join(path, k)]);
    }
  }
  return null;
}
