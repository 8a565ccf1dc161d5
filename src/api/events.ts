import Router from '@koa/router';
import { asId } from '../domain/ids.js';
import { checkRange, registry, rfc3339, z } from './openapi.js';
import { pageQuery, paginate, route } from './route.js';
import { deliveryOut, eventOut } from './presenters.js';
import { AppRef, DeliveryOut } from './webhooks.schema.js';
import type { ApiDeps, AuthFn } from './deps.js';

const EventIn = registry.register(
  'EventIn',
  z
    .object({
      application: AppRef.optional().openapi({ description: "the application (id or uid) whose webhooks receive it; absent = only organization-level webhooks" }),
      type: z.string().min(1).max(128),
      data: z.unknown().refine((d) => d !== undefined, 'data is required').openapi({ type: 'object' }),
      id: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/).optional().openapi({ description: 'your id for this event: the same id within 24 h is published once' }),
      channels: z.array(z.string().min(1).max(128)).max(10).optional(),
      timestamp: rfc3339().optional(),
      raw: z.boolean().optional().openapi({ description: 'send data as the whole body instead of the {id, type, timestamp, data} envelope' }),
    })
    .strict(),
);

const Published = registry.register(
  'EventPublished',
  z.object({ id: z.string(), type: z.string(), timestamp: z.string(), deliveries: z.number().int(), request_id: z.string().optional() }),
);

const EventOut = registry.register(
  'Event',
  z.object({
    id: z.string(), application_id: z.string().nullable(), type: z.string(), timestamp: z.string(), channels: z.array(z.string()).nullable(), raw: z.boolean(),
    data: z.unknown(), created_at: z.string(), erased_at: z.string().nullable(), deliveries: z.array(DeliveryOut).optional(), request_id: z.string().optional(),
  }),
);

export function eventsRouter(deps: ApiDeps, auth: AuthFn): Router {
  const router = new Router();
  const { publisher, deliveries } = deps.services;

  route(router, auth, {
    method: 'post', path: '/v1/events', role: 'publish', tag: 'events',
    summary: 'Publish an event: one delivery per matching webhook. Idempotent by idempotency-key header or id.',
    body: EventIn, responses: { 202: Published },
    handler: async (ctx, { body, auth: a }) => {
      const key = ctx.get('idempotency-key') || undefined;
      const { result, deprecation } = await publisher.publish(a.orgId, body as never, key);
      if (deprecation) ctx.set('deprecation', deprecation);
      ctx.status = 202;
      return result;
    },
  });

  route(router, auth, {
    method: 'post', path: '/v1/events/batch', role: 'publish', tag: 'events',
    summary: 'Publish up to 500 events; all are validated before any is stored. With an idempotency-key header (or ids on the events) a retry stores nothing twice',
    body: z.object({ events: z.array(EventIn).min(1).max(500) }).strict(),
    responses: { 202: z.object({ data: z.array(Published) }) },
    handler: async (ctx, { body, auth: a }) => {
      const { results, deprecations } = await publisher.publishBatch(a.orgId, body.events as never, ctx.get('idempotency-key') || undefined);
      if (deprecations.length) ctx.set('deprecation', [...new Set(deprecations)].join('; '));
      ctx.status = 202;
      return { data: results };
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/events', role: 'manage', tag: 'events', summary: 'List events, newest first',
    query: z.object({
      ...pageQuery,
      type: z.string().optional(),
      application: AppRef.optional(),
      since: rfc3339().optional(),
      until: rfc3339().optional(),
    }).strict(),
    responses: { 200: z.object({ data: z.array(EventOut), pagination: z.object({ page: z.number(), per_page: z.number(), total: z.number(), has_more: z.boolean() }) }) },
    handler: async (_ctx, { query, auth: a }) => {
      checkRange(query);
      const range = { since: query.since ? new Date(query.since) : null, until: query.until ? new Date(query.until) : null };
      const { docs, total } = await deliveries.listEvents(a, { type: query.type, application: query.application, ...range }, query);
      return paginate(docs.map(eventOut), query.page, query.per_page, total);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/events/{id}', role: 'manage', tag: 'events', summary: 'An event with its deliveries',
    params: z.object({ id: z.string().max(128) }), responses: { 200: EventOut },
    handler: async (_ctx, { params, auth: a }) => {
      const { event, deliveries: ds } = await deliveries.eventWithDeliveries(a, asId('evt', params.id));
      return { ...eventOut(event), deliveries: ds.map((d) => deliveryOut(d, event)) };
    },
  });

  route(router, auth, {
    method: 'delete', path: '/v1/events/{id}/payload', role: 'admin', tag: 'events',
    summary: "Erase an event's payload (privacy): the delivery records stay, the data is gone and never sent again",
    params: z.object({ id: z.string().max(128) }), responses: { 200: EventOut, 409: null },
    handler: async (_ctx, { params, auth: a }) => eventOut(await deliveries.eraseEvent(a, asId('evt', params.id))),
  });

  return router;
}
