import Router from '@koa/router';
import type { ApiDeps, AuthFn } from '../deps.js';
import { webhookCrudRoutes } from './crud.js';
import { webhookRecoveryRoutes } from './recovery.js';
import { webhookSecretRoutes } from './secret.js';
import { webhookTestRoutes } from './test.js';

/** /v1/webhooks, split by concern: the resource itself, its secret, recovery, and testing. */
export function webhooksRouter(deps: ApiDeps, auth: AuthFn): Router {
  const router = new Router();
  webhookCrudRoutes(router, deps, auth);
  webhookSecretRoutes(router, deps, auth);
  webhookRecoveryRoutes(router, deps, auth);
  webhookTestRoutes(router, deps, auth);
  return router;
}
