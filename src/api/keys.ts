import Router from '@koa/router';
import { asId } from '../domain/ids.js';
import { registry, rfc3339, z } from './openapi.js';
import { pageQuery, paginate, route } from './route.js';
import { keyOut } from './presenters.js';
import { AppRef } from './webhooks.schema.js';
import type { ApiDeps, AuthFn } from './deps.js';

const KeyIn = registry.register(
  'ApiKeyIn',
  z.object({
    role: z.enum(['admin', 'publisher', 'application']).openapi({ description: 'admin: everything; publisher: publish events; application: one application\'s webhooks, events, deliveries and stats' }),
    application: AppRef.optional().openapi({ description: 'required for role application (id or uid)' }),
    name: z.string().min(1).max(128).optional(),
    expires_at: rfc3339().optional().openapi({ description: 'the key stops working at this time' }),
  }).strict(),
);
const KeyOut = registry.register(
  'ApiKey',
  z.object({
    id: z.string(), name: z.string().nullable(), role: z.enum(['admin', 'publisher', 'application']), application_id: z.string().nullable(),
    prefix: z.string(), expires_at: z.string().nullable(), last_used_at: z.string().nullable(), created_at: z.string(),
    key: z.string().optional().openapi({ description: 'the full key: in the answer to its creation only' }), request_id: z.string().optional(),
  }),
);

/** API keys of the organization, for its admin keys. */
export function keysRouter(deps: ApiDeps, auth: AuthFn): Router {
  const router = new Router();
  const { keys } = deps.services;

  route(router, auth, {
    method: 'post', path: '/v1/keys', role: 'admin', tag: 'keys', summary: 'Create an API key (shown in full only in this answer)',
    body: KeyIn, responses: { 201: KeyOut },
    handler: async (ctx, { body, auth: a }) => {
      const { key, doc } = await keys.create(a.orgId, body);
      ctx.status = 201;
      return { ...keyOut(doc), key };
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/keys', role: 'admin', tag: 'keys', summary: 'List the API keys that are not revoked (prefix, role, scope, last use)',
    query: z.object(pageQuery).strict(),
    responses: { 200: z.object({ data: z.array(KeyOut), pagination: z.object({ page: z.number(), per_page: z.number(), total: z.number(), has_more: z.boolean() }) }) },
    handler: async (_ctx, { query, auth: a }) => {
      const { docs, total } = await keys.list(a.orgId, query);
      return paginate(docs.map(keyOut), query.page, query.per_page, total);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/keys/{id}', role: 'admin', tag: 'keys', summary: 'An API key (without the key itself)',
    params: z.object({ id: z.string().max(128) }), responses: { 200: KeyOut },
    handler: async (_ctx, { params, auth: a }) => keyOut(await keys.get(a.orgId, asId('key', params.id))),
  });

  route(router, auth, {
    method: 'delete', path: '/v1/keys/{id}', role: 'admin', tag: 'keys', summary: 'Revoke an API key (it stops working within 5 s on every API process)',
    params: z.object({ id: z.string().max(128) }), responses: { 204: null },
    handler: async (ctx, { params, auth: a }) => {
      await keys.revoke(a.orgId, asId('key', params.id));
      ctx.status = 204;
      return undefined;
    },
  });

  return router;
}
