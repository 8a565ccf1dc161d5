import Router from '@koa/router';
import { notFound } from '../errors.js';
import { guard } from '../storage/mongo.js';
import { z } from './openapi.js';
import { route } from './route.js';
import { deliveryOut } from './presenters.js';
import { DeliveryOut } from './webhooks.schema.js';
import type { ApiDeps, AuthFn } from './deps.js';

export function deliveriesRouter(deps: ApiDeps, auth: AuthFn): Router {
  const router = new Router();
  const { store, control } = deps;
  const { c } = store;
  const params = z.object({ id: z.string().max(128) });

  const load = async (orgId: string, id: string) => {
    const d = await guard(() => c.deliveries.findOne({ _id: id, org_id: orgId }));
    if (!d) throw notFound('delivery');
    return d;
  };

  route(router, auth, {
    method: 'get', path: '/v1/deliveries/{id}', role: 'admin', tag: 'deliveries', summary: 'A delivery with all its attempts',
    params, responses: { 200: DeliveryOut },
    handler: async (_ctx, { params: p, auth: a }) => {
      const d = await load(a.orgId, p.id);
      return guard(async () => {
        const [event, attempts] = await Promise.all([
          c.events.findOne({ _id: d.event_id }),
          c.attempts.find({ delivery_id: d._id }).sort({ attempt: 1 }).toArray(),
        ]);
        return deliveryOut(d, event ?? undefined, attempts);
      });
    },
  });

  route(router, auth, {
    method: 'post', path: '/v1/deliveries/{id}/retry', role: 'admin', tag: 'deliveries',
    summary: 'Attempt this delivery again now (same event id; the attempt count continues)',
    params, responses: { 202: DeliveryOut, 409: null },
    handler: async (ctx, { params: p, auth: a }) => {
      const d = await load(a.orgId, p.id);
      const wh = await guard(() => c.webhooks.findOne({ _id: d.webhook_id, org_id: a.orgId }));
      if (!wh) throw notFound('webhook of this delivery');
      await guard(() => control.retry(wh, d, { fullSchedule: false }));
      ctx.status = 202;
      const event = await guard(() => c.events.findOne({ _id: d.event_id }));
      return deliveryOut({ ...d, status: 'pending', next_attempt_at: new Date() }, event ?? undefined);
    },
  });

  return router;
}
