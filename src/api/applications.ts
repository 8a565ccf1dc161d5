import Router from '@koa/router';
import { validationFailed } from '../errors.js';
import { asId } from '../domain/ids.js';
import { checkRange, registry, rfc3339, z } from './openapi.js';
import { pageQuery, paginate, route } from './route.js';
import { applicationOut, deliveryOut, webhookOut } from './presenters.js';
import { AppRef, DeliveryOut, HealthStatusOut, SUCCESS_RATE, WebhookIn, WebhookOut } from './webhooks.schema.js';
import type { ApiDeps, AuthFn } from './deps.js';

// Keys are stored as document fields: letters, digits, _ - : only (MongoDB-wire servers refuse "." and "$" in keys).
const Metadata = z
  .record(z.string().max(1024))
  .superRefine((m, ctx) => {
    if (Object.keys(m).length > 50) ctx.addIssue({ code: 'custom', message: 'at most 50 metadata keys' });
    for (const k of Object.keys(m)) if (!/^[A-Za-z0-9_:\-]{1,64}$/.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'a metadata key is 1–64 letters, digits, _ - :' });
  })
  .openapi({ example: { plan: 'pro' } });
const appFields = {
  uid: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/).nullable().optional().openapi({ description: 'your own id for this customer; unique in the organization; usable wherever the application id is' }),
  name: z.string().min(1).max(256),
  metadata: Metadata.optional(),
  rate_limit_per_s: z.number().int().min(1).max(10_000).nullable().optional().openapi({ description: 'a cap over all its webhooks together (per worker process)' }),
};
const ApplicationIn = registry.register('ApplicationIn', z.object(appFields).strict());
const ApplicationPut = registry.register('ApplicationPut', z.object(appFields).omit({ uid: true }).strict());
const ApplicationPatch = registry.register('ApplicationPatch', z.object({ ...appFields, name: appFields.name.optional() }).strict());
const ApplicationOut = registry.register(
  'Application',
  z.object({
    id: z.string(), uid: z.string().nullable(), name: z.string(), metadata: z.record(z.string()), rate_limit_per_s: z.number().int().nullable(),
    created_at: z.string(), updated_at: z.string(), request_id: z.string().optional(),
  }),
);
const ApplicationStatsOut = registry.register(
  'ApplicationStats',
  z.object({
    window: z.string(),
    attempts: z.object({ succeeded: z.number().int(), failed: z.number().int() }).openapi({ description: 'finished attempts of its webhooks in the window' }),
    success_rate: z.number().nullable().openapi({ description: SUCCESS_RATE }),
    latency_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() }).openapi({ description: 'upper bounds of the latency histogram buckets the percentiles fall in' }),
    webhooks: z.array(z.object({ id: z.string(), uid: z.string().nullable(), url: z.string(), status: z.enum(['active', 'disabled']), health_status: HealthStatusOut })),
    request_id: z.string().optional(),
  }),
);
const AppParams = z.object({ app: AppRef });
const PortalSessionOut = registry.register(
  'PortalSession',
  z.object({ id: z.string(), application_id: z.string(), url: z.string(), token: z.string(), expires_at: z.string(), request_id: z.string().optional() }),
);
const list = <T extends z.ZodTypeAny>(item: T) => z.object({ data: z.array(item), pagination: z.object({ page: z.number(), per_page: z.number(), total: z.number(), has_more: z.boolean() }) });

/** Applications: the producer's customers, each with its own webhooks, events and delivery log. */
export function applicationsRouter(deps: ApiDeps, auth: AuthFn): Router {
  const router = new Router();
  const { applications, webhooks, deliveries } = deps.services;

  route(router, auth, {
    method: 'post', path: '/v1/applications', role: 'admin', tag: 'applications', summary: 'Create an application (one of your customers)',
    body: ApplicationIn, responses: { 201: ApplicationOut, 409: null },
    handler: async (ctx, { body, auth: a }) => {
      const app = await applications.create(a.orgId, body);
      ctx.status = 201;
      return applicationOut(app);
    },
  });

  route(router, auth, {
    method: 'put', path: '/v1/applications/uid/{uid}', role: 'admin', tag: 'applications',
    summary: 'Create or update the application with your customer id: 201 when created, 200 when updated',
    params: z.object({ uid: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/) }), body: ApplicationPut, responses: { 200: ApplicationOut, 201: ApplicationOut },
    handler: async (ctx, { params, body, auth: a }) => {
      const { app, created } = await applications.upsert(a.orgId, params.uid, body);
      ctx.status = created ? 201 : 200;
      return applicationOut(app);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/applications', role: 'manage', tag: 'applications', summary: 'List applications, newest first (q: name contains, case-insensitive)',
    query: z.object({ ...pageQuery, uid: z.string().max(128).optional(), q: z.string().min(1).max(128).optional() }).strict(),
    responses: { 200: list(ApplicationOut) },
    handler: async (_ctx, { query, auth: a }) => {
      const { docs, total } = await applications.list(a, { uid: query.uid, q: query.q }, query);
      return paginate(docs.map(applicationOut), query.page, query.per_page, total);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/applications/{app}', role: 'manage', tag: 'applications', summary: 'An application (by id or uid)',
    params: AppParams, responses: { 200: ApplicationOut },
    handler: async (_ctx, { params, auth: a }) => applicationOut(await applications.resolve(a, params.app)),
  });

  route(router, auth, {
    method: 'patch', path: '/v1/applications/{app}', role: 'admin', tag: 'applications', summary: 'Change an application',
    params: AppParams, body: ApplicationPatch, responses: { 200: ApplicationOut, 409: null },
    handler: async (_ctx, { params, body, auth: a }) => applicationOut(await applications.update(await applications.resolve(a, params.app), body)),
  });

  route(router, auth, {
    method: 'delete', path: '/v1/applications/{app}', role: 'admin', tag: 'applications',
    summary: 'Delete an application: its webhooks are deleted (open deliveries end cancelled) and its keys revoked',
    params: AppParams, responses: { 204: null },
    handler: async (ctx, { params, auth: a }) => {
      await applications.remove(await applications.resolve(a, params.app));
      ctx.status = 204;
      return undefined;
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/applications/{app}/stats', role: 'manage', tag: 'applications',
    summary: 'Success rate, latency percentiles and the health of each webhook of an application over the last 24 h',
    params: AppParams, responses: { 200: ApplicationStatsOut },
    handler: async (_ctx, { params, auth: a }) => deps.services.applicationStats(a.orgId, (await applications.resolve(a, params.app))._id),
  });

  route(router, auth, {
    method: 'get', path: '/v1/applications/{app}/webhooks', role: 'manage', tag: 'applications', summary: "An application's webhooks (secret is always null)",
    params: AppParams, query: z.object({ ...pageQuery, status: z.enum(['active', 'disabled']).optional(), event: z.string().optional(), uid: z.string().optional() }).strict(),
    responses: { 200: list(WebhookOut) },
    handler: async (_ctx, { params, query, auth: a }) => {
      const { items, total } = await webhooks.list(a, { status: query.status, uid: query.uid, event: query.event, application: params.app }, query);
      return paginate(items.map((i) => webhookOut(i.webhook, i.health)), query.page, query.per_page, total);
    },
  });

  route(router, auth, {
    method: 'post', path: '/v1/applications/{app}/webhooks', role: 'manage', tag: 'applications', summary: 'Create a webhook of this application (the secret is shown once)',
    params: AppParams, body: WebhookIn, responses: { 201: WebhookOut, 409: null },
    handler: async (ctx, { params, body, auth: a }) => {
      if (body.application && body.application !== params.app) {
        const [inPath, inBody] = await Promise.all([applications.resolve(a, params.app), applications.resolve(a, body.application)]);
        if (inPath._id !== inBody._id) throw validationFailed('the body names another application than the path', [{ path: 'application', message: 'must be the application of the path, or left out' }]);
      }
      const { webhook, deprecations } = await webhooks.create(a, { ...body, application: params.app });
      if (deprecations.length) ctx.set('deprecation', deprecations.join('; '));
      ctx.status = 201;
      return webhookOut(webhook, 'unknown', { secret: true });
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/applications/{app}/deliveries', role: 'manage', tag: 'applications', summary: "An application's deliveries across its webhooks, newest first",
    params: AppParams,
    query: z.object({
      ...pageQuery,
      status: z.enum(['pending', 'delivered', 'failed', 'paused', 'skipped', 'cancelled']).optional(),
      event_type: z.string().optional(),
      since: rfc3339().optional(),
      until: rfc3339().optional(),
    }).strict(),
    responses: { 200: list(DeliveryOut) },
    handler: async (_ctx, { params, query, auth: a }) => {
      checkRange(query);
      const app = await applications.resolve(a, params.app);
      const f = { status: query.status, eventType: query.event_type, since: query.since ? new Date(query.since) : null, until: query.until ? new Date(query.until) : null };
      const { items, total } = await deliveries.ofApplication(a, app._id, f, query);
      return paginate(items.map((i) => deliveryOut(i.delivery, i.event)), query.page, query.per_page, total);
    },
  });

  route(router, auth, {
    method: 'post', path: '/v1/applications/{app}/portal-sessions', role: 'publish', tag: 'portal',
    summary: "A link that opens the consumer portal signed in as this application (token in the URL's fragment)",
    params: AppParams,
    body: z.object({ expires_in: z.number().int().min(60).max(7 * 24 * 3600).optional().openapi({ description: 'seconds; default from PORTAL_SESSION_TTL_S (1 h), at most 7 days' }) }).strict(),
    responses: { 201: PortalSessionOut },
    handler: async (ctx, { params, body, auth: a }) => {
      const s = await deps.services.keys.portalSession(a.orgId, params.app, body.expires_in ?? deps.config.portal.sessionTtlS);
      const base = deps.config.publicUrl ?? `${ctx.protocol}://${ctx.host}`;
      ctx.status = 201;
      return { id: s.id, application_id: s.application_id, url: `${base}/portal#token=${encodeURIComponent(s.token)}`, token: s.token, expires_at: s.expires_at.toISOString() };
    },
  });

  route(router, auth, {
    method: 'delete', path: '/v1/applications/{app}/portal-sessions/{id}', role: 'publish', tag: 'portal',
    summary: 'End a portal session before it expires (within 5 s on every API process)',
    params: z.object({ app: AppRef, id: z.string().max(128) }), responses: { 204: null },
    handler: async (ctx, { params, auth: a }) => {
      await deps.services.keys.endPortalSession(a.orgId, params.app, asId('key', params.id));
      ctx.status = 204;
      return undefined;
    },
  });

  return router;
}
