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

/** Reads a JSON body with a size limit: 413 past it, 415 for anything but JSON, 400 for malformed JSON. */
export function jsonBody(limitFor: (path: string) => number): Koa.Middleware {
  return async (ctx, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(ctx.method)) return next();
    const limit = limitFor(ctx.path);
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
    if (text.trim() === '') {
      ctx.state.body = undefined;
      return next();
    }
    if (!ctx.is('application/json', 'application/*+json')) throw unsupportedMediaType();
    try {
      ctx.state.body = JSON.parse(text);
    } catch (err) {
      throw validationFailed('request body is not valid JSON', [{ path: '(body)', message: (err as Error).message }]);
    }
    return next();
  };
}
