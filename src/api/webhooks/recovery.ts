import type Router from '@koa/router';
import { asId } from '../../domain/ids.js';
import { z } from '../openapi.js';
import { route } from '../route.js';
import { recoveryOut } from '../presenters.js';
import { IdParams, RecoverIn, RecoveryOut } from '../webhooks.schema.js';
import type { ApiDeps, AuthFn } from '../deps.js';

/** Recovery (replay): re-deliver what failed in a window, and follow the task. */
export function webhookRecoveryRoutes(router: Router, deps: ApiDeps, auth: AuthFn) {
  const { webhooks, recoveries } = deps.services;

  route(router, auth, {
    method: 'post', path: '/v1/webhooks/{id}/recover', role: 'manage', tag: 'webhooks',
    summary: 'Re-deliver every delivery of this webhook that ended failed with created_at in [since, until)',
    params: IdParams, body: RecoverIn, responses: { 202: RecoveryOut },
    handler: async (ctx, { params, body, auth: a }) => {
      const wh = await webhooks.load(a, asId('wh', params.id));
      const rec = await recoveries.start(wh, new Date(body.since), body.until ? new Date(body.until) : null);
      ctx.status = 202;
      return recoveryOut(rec);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks/{id}/recoveries/{rcv_id}', role: 'manage', tag: 'webhooks', summary: 'A recover task',
    params: z.object({ id: z.string().max(128), rcv_id: z.string().max(128) }), responses: { 200: RecoveryOut },
    handler: async (_ctx, { params, auth: a }) => {
      const wh = await webhooks.load(a, asId('wh', params.id));
      return recoveryOut(await recoveries.get(a.orgId, wh._id, asId('rcv', params.rcv_id)));
    },
  });
}
