import { applicationsRouter } from './applications.js';
import { keysRouter } from './keys.js';
import { portalRouter } from './portal.js';
import { inSpan, SpanKind, SpanStatusCode, tracingEnabled } from '../tracing.js';
import Koa from 'koa';
import Router from '@koa/router';
import { z } from './openapi.js';
import { authenticate } from './middleware/auth.js';
import { errorHandler } from './middleware/errors.js';
import { bodyBudget, jsonBody, requestId } from './middleware/request.js';
import { route } from './route.js';
import { AppError, notFound } from '../errors.js';
import { webhooksRouter } from './webhooks/index.js';
import { eventsRouter } from './events.js';
import { deliveriesRouter } from './deliveries.js';
import { eventTypesRouter } from './event-types.js';
import { httpRequests, opsRouter } from './ops.js';
import type { ApiDeps } from './deps.js';

const BATCH_LIMIT = 8 * 1024 * 1024;

/** Middleware order: request id → error shape → metrics → body → routes (each route: auth → validate → handler). */
export function createApp(deps: ApiDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  const auth = authenticate(deps.services.orgs.identify, deps.config.apiRateLimit);

  app.use(requestId());
  // With tracing on: one server span per request, active while it is handled (publishes start workflows in it).
  if (tracingEnabled()) {
    app.use((ctx, next) =>
      inSpan(`${ctx.method} ${ctx.path.replace(/\/(wh|evt|dlv|app|key|rcv)_[0-9A-Za-z]+/g, '/$1_…')}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': ctx.method } }, async (span) => {
        await next();
        span.setAttribute('http.response.status_code', ctx.status);
        if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }),
    );
  }
  app.use(errorHandler(deps.log));
  app.use(async (ctx, next) => {
    const end = httpRequests.startTimer();
    try {
      await next();
    } finally {
      end({ method: ctx.method, route: (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched', status: String(ctx.status) });
    }
  });
  app.use(jsonBody((path) => (path === '/v1/events/batch' ? BATCH_LIMIT : deps.config.maxEventBytes), bodyBudget(deps.config.apiBodyBytesInFlight)));

  const me = new Router();
  route(me, auth, {
    method: 'get', path: '/v1/me', role: 'any', tag: 'organization', summary: 'The organization and key behind this request',
    responses: { 200: z.object({ organization: z.object({ id: z.string(), name: z.string() }), key: z.object({ id: z.string(), role: z.enum(['admin', 'publisher', 'application']), application_id: z.string().nullable() }) }) },
    handler: async (_ctx, { auth: a }) => {
      const org = await deps.services.orgs.get(a.orgId);
      if (!org) throw notFound('organization');
      return { organization: { id: org._id, name: org.name }, key: { id: a.keyId, role: a.role, application_id: a.applicationId } };
    },
  });

  for (const router of [opsRouter(deps), portalRouter(deps), me, eventTypesRouter(deps, auth), applicationsRouter(deps, auth), keysRouter(deps, auth), webhooksRouter(deps, auth), eventsRouter(deps, auth), deliveriesRouter(deps, auth)]) {
    app.use(router.routes());
    app.use(router.allowedMethods({
      throw: true,
      notImplemented: () => new AppError(405, 'method_not_allowed', 'this method is not supported here'),
      methodNotAllowed: () => new AppError(405, 'method_not_allowed', 'this method is not allowed on this path'),
    }));
  }
  return app;
}
