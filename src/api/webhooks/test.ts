import type Router from '@koa/router';
import { asId } from '../../domain/ids.js';
import { parseDuration } from '../../domain/durations.js';
import { validationFailed } from '../../errors.js';
import { z } from '../openapi.js';
import { route } from '../route.js';
import { deliveryOut } from '../presenters.js';
import { DeliveryOut, IdParams, StatsOut, TestIn } from '../webhooks.schema.js';
import type { ApiDeps, AuthFn } from '../deps.js';

const MAX_WINDOW_MS = 90 * 24 * 3600 * 1000;

/** Checking an endpoint: a test event, and the delivery statistics and health. */
export function webhookTestRoutes(router: Router, deps: ApiDeps, auth: AuthFn) {
  route(router, auth, {
    method: 'post', path: '/v1/webhooks/{id}/test', role: 'manage', tag: 'webhooks',
    summary: 'Send a test event to this webhook only and wait for its first attempt',
    params: IdParams, body: TestIn, responses: { 200: DeliveryOut },
    handler: async (_ctx, { params, body, auth: a }) => {
      const { delivery, event, attempts } = await deps.services.sendTest(a, asId('wh', params.id), body);
      return deliveryOut(delivery, event, attempts);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks/{id}/stats', role: 'manage', tag: 'webhooks', summary: 'Delivery statistics and health over a window',
    params: IdParams, query: z.object({ window: z.string().default('24h') }).strict(), responses: { 200: StatsOut },
    handler: async (_ctx, { params, query, auth: a }) => {
      const ms = parseDuration(query.window);
      if (ms === null || ms <= 0 || ms > MAX_WINDOW_MS) throw validationFailed('window must be a duration like 1h, 24h, 7d (≤ 90d)', [{ path: 'window', message: 'invalid' }]);
      return { window: query.window, ...(await deps.services.stats(a, asId('wh', params.id), ms)) };
    },
  });
}
