import type Router from '@koa/router';
import { asId } from '../../domain/ids.js';
import { z } from '../openapi.js';
import { route } from '../route.js';
import { IdParams, RotateIn } from '../webhooks.schema.js';
import type { ApiDeps, AuthFn } from '../deps.js';

/** The signing secret (shown at creation, on `include_secret=true`, and here on rotation). */
export function webhookSecretRoutes(router: Router, deps: ApiDeps, auth: AuthFn) {
  route(router, auth, {
    method: 'post', path: '/v1/webhooks/{id}/rotate-secret', role: 'manage', tag: 'webhooks',
    summary: 'Rotate the signing secret; the previous one keeps signing (second signature) for 24 h',
    params: IdParams, body: RotateIn, responses: { 200: z.object({ secret: z.string() }) },
    handler: async (_ctx, { params, body, auth: a }) => ({ secret: await deps.services.rotateSecret(a, asId('wh', params.id), body.secret) }),
  });
}
