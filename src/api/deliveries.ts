import Router from '@koa/router';
import { asId } from '../domain/ids.js';
import { checkRange, rfc3339, z } from './openapi.js';
import { pageQuery, paginate, route } from './route.js';
import { deliveryOut } from './presenters.js';
import { DeliveryOut, IdParams } from './webhooks.schema.js';
import type { ApiDeps, AuthFn } from './deps.js';

/** The delivery log: one delivery with its attempts, retry, and a webhook's deliveries. */
export function deliveriesRouter(deps: ApiDeps, auth: AuthFn): Router {
  const router = new Router();
  const { deliveries } = deps.services;
  const params = z.object({ id: z.string().max(128) });

  route(router, auth, {
    method: 'get', path: '/v1/deliveries/{id}', role: 'manage', tag: 'deliveries', summary: 'A delivery with all its attempts',
    params, responses: { 200: DeliveryOut },
    handler: async (_ctx, { params: p, auth: a }) => {
      const { delivery, event, attempts } = await deliveries.get(a, asId('dlv', p.id));
      return deliveryOut(delivery, event, attempts);
    },
  });

  route(router, auth, {
    method: 'post', path: '/v1/deliveries/{id}/retry', role: 'manage', tag: 'deliveries',
    summary: 'Attempt this delivery again now (same event id; the attempt count continues)',
    params, responses: { 202: DeliveryOut, 409: null },
    handler: async (ctx, { params: p, auth: a }) => {
      const { delivery, event } = await deliveries.retry(a, asId('dlv', p.id));
      ctx.status = 202;
      return deliveryOut(delivery, event);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks/{id}/deliveries', role: 'manage', tag: 'deliveries', summary: 'The delivery log of a webhook, newest first',
    params: IdParams,
    query: z.object({
      ...pageQuery,
      status: z.enum(['pending', 'delivered', 'failed', 'paused', 'skipped', 'cancelled']).optional(),
      event: z.string().optional(),
      since: rfc3339().optional(),
      until: rfc3339().optional(),
    }).strict(),
    responses: { 200: z.object({ data: z.array(DeliveryOut), pagination: z.object({ page: z.number(), per_page: z.number(), total: z.number(), has_more: z.boolean() }) }) },
    handler: async (_ctx, { params: p, query, auth: a }) => {
      checkRange(query);
      const filter = {
        status: query.status, eventType: query.event,
        since: query.since ? new Date(query.since) : null, until: query.until ? new Date(query.until) : null,
      };
      const { items, total } = await deliveries.ofWebhook(a, asId('wh', p.id), filter, query);
      return paginate(items.map((i) => deliveryOut(i.delivery, i.event)), query.page, query.per_page, total);
    },
  });

  return router;
}
