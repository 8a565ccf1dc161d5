import Router from '@koa/router';
import type { EventTypeDoc } from '../services/models.js';
import { registry, z } from './openapi.js';
import { pageQuery, paginate, route } from './route.js';
import type { ApiDeps, AuthFn } from './deps.js';

const NAME = /^[A-Za-z0-9_]+([.\-][A-Za-z0-9_]+)*$/;
const name = z.string().min(1).max(128).regex(NAME, 'letters, digits and _, separated by . or -');

const EventTypeIn = registry.register(
  'EventTypeIn',
  z.object({
    name,
    description: z.string().max(1024).optional(),
    schema: z.record(z.unknown()).nullable().optional().openapi({ description: 'JSON Schema that published data must match' }),
    deprecated: z.boolean().optional(),
    replaced_by: name.nullable().optional(),
  }).strict(),
);
const EventTypePatch = registry.register('EventTypePatch', EventTypeIn.omit({ name: true }).partial().strict());
const EventTypeOut = registry.register(
  'EventType',
  z.object({
    name: z.string(), description: z.string(), schema: z.record(z.unknown()).nullable(), deprecated: z.boolean(),
    replaced_by: z.string().nullable(), archived: z.boolean(), created_at: z.string(), updated_at: z.string(), request_id: z.string().optional(),
  }),
);

const out = (t: EventTypeDoc) => ({
  // ?? guards documents written by an upsert, where some servers drop null fields.
  name: t.name, description: t.description ?? '', schema: t.schema ? JSON.parse(t.schema) : null, deprecated: t.deprecated ?? false,
  replaced_by: t.replaced_by ?? null, archived: t.archived ?? false, created_at: t.created_at.toISOString(), updated_at: t.updated_at.toISOString(),
});

export function eventTypesRouter(deps: ApiDeps, auth: AuthFn): Router {
  const router = new Router();
  const types = deps.services.eventTypes;
  const params = z.object({ name: z.string().max(128) });

  route(router, auth, {
    method: 'post', path: '/v1/event-types', role: 'admin', tag: 'event types', summary: 'Add an event type to the catalog',
    body: EventTypeIn, responses: { 201: EventTypeOut, 409: null },
    handler: async (ctx, { body, auth: a }) => {
      const doc = await types.create(a.orgId, body);
      ctx.status = 201;
      return out(doc);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/event-types', role: 'any', tag: 'event types', summary: 'The event type catalog',
    query: z.object({ ...pageQuery, include_archived: z.enum(['true', 'false']).default('false') }).strict(),
    responses: { 200: z.object({ data: z.array(EventTypeOut), pagination: z.object({ page: z.number(), per_page: z.number(), total: z.number(), has_more: z.boolean() }) }) },
    handler: async (_ctx, { query, auth: a }) => {
      const { docs, total } = await types.list(a.orgId, { ...query, includeArchived: query.include_archived === 'true' });
      return paginate(docs.map(out), query.page, query.per_page, total);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/event-types/{name}', role: 'any', tag: 'event types', summary: 'One event type',
    params, responses: { 200: EventTypeOut },
    handler: async (_ctx, { params: p, auth: a }) => out(await types.get(a.orgId, p.name)),
  });

  route(router, auth, {
    method: 'patch', path: '/v1/event-types/{name}', role: 'admin', tag: 'event types', summary: 'Change description, schema or deprecation',
    params, body: EventTypePatch, responses: { 200: EventTypeOut },
    handler: async (_ctx, { params: p, body, auth: a }) => out(await types.update(a.orgId, p.name, body)),
  });

  route(router, auth, {
    method: 'delete', path: '/v1/event-types/{name}', role: 'admin', tag: 'event types',
    summary: 'Archive an event type: new publishes and subscriptions are rejected; history stays',
    params, responses: { 204: null },
    handler: async (ctx, { params: p, auth: a }) => {
      await types.archive(a.orgId, p.name);
      ctx.status = 204;
      return undefined;
    },
  });

  return router;
}
