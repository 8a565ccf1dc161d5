import type Koa from 'koa';
import type Router from '@koa/router';
import type { ZodTypeAny, z as Z } from 'zod';
import { ErrorOut, registry, z } from './openapi.js';
import type { Auth } from '../services/orgs.js';
import { guard } from '../services/models.js';

/**
 * Who may call a route: `admin` keys only; `publish`: admin and publisher keys; `manage`: admin keys and
 * application keys (which see only their application); `any`: every key.
 */
export type Access = 'admin' | 'publish' | 'manage' | 'any';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export type RouteSpec<B extends ZodTypeAny, Q extends ZodTypeAny, P extends ZodTypeAny> = {
  method: Method;
  /** OpenAPI style: /v1/webhooks/{id} */
  path: string;
  role: Access;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  params?: P;
  /** status → response schema (null = no body) */
  responses: Record<number, ZodTypeAny | null>;
  handler: (
    ctx: Koa.ParameterizedContext,
    input: { body: Z.infer<B>; query: Z.infer<Q>; params: Z.infer<P>; auth: Auth },
  ) => Promise<unknown>;
};

const ERROR_STATUSES: Record<number, string> = {
  400: 'validation_failed or unknown_event_type',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable or overloaded',
};

/**
 * One declaration serves the router and the OpenAPI document: auth → zod-parse params, query, body → thin
 * handler returning the body. The handler sets ctx.status when it is not 200.
 */
export function route<B extends ZodTypeAny, Q extends ZodTypeAny, P extends ZodTypeAny>(
  router: Router,
  auth: (access: Access) => Koa.Middleware,
  spec: RouteSpec<B, Q, P>,
) {
  const responses: Record<string, object> = {};
  for (const [status, schema] of Object.entries(spec.responses)) {
    responses[status] = schema
      ? { description: spec.summary, content: { 'application/json': { schema } } }
      : { description: spec.summary };
  }
  const errorStatuses = [400, 401, 404, 429, 503];
  if (spec.role !== 'any') errorStatuses.push(403);
  if (spec.body) errorStatuses.push(413, 415);
  for (const s of errorStatuses) responses[s] ??= { description: ERROR_STATUSES[s], content: { 'application/json': { schema: ErrorOut } } };
  registry.registerPath({
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tags: [spec.tag],
    request: {
      ...(spec.params ? { params: spec.params as never } : {}),
      ...(spec.query ? { query: spec.query as never } : {}),
      ...(spec.body ? { body: { content: { 'application/json': { schema: spec.body } }, required: true } } : {}),
    },
    responses: responses as never,
  });

  const koaPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
  router[spec.method](koaPath, auth(spec.role), async (ctx) => {
    const params = spec.params ? spec.params.parse(ctx.params) : {};
    const query = spec.query ? spec.query.parse(ctx.query) : {};
    // The body is read only now, after auth: an unauthenticated request never has its body read.
    const raw = spec.body ? await (ctx.state.readBody as () => Promise<unknown>)() : undefined;
    const body = spec.body ? spec.body.parse(raw ?? {}) : undefined;
    // guard: a lost database connection anywhere below becomes the API's 503 (the request had no effect).
    const result = await guard(() => spec.handler(ctx as never, { body, query, params, auth: ctx.state.auth } as never));
    if (result !== undefined) ctx.body = result;
    else if (!ctx.body) ctx.status = ctx.status === 404 ? 204 : ctx.status;
  });
}

/** page/per_page query parameters shared by every list. */
export const pageQuery = {
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(20),
};

export function paginate<T>(data: T[], page: number, perPage: number, total: number) {
  return { data, pagination: { page, per_page: perPage, total, has_more: page * perPage < total } };
}
