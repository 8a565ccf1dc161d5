import type Router from '@koa/router';
import { asId } from '../../domain/ids.js';
import { z } from '../openapi.js';
import { pageQuery, paginate, route } from '../route.js';
import { deliveryOut, recoveryOut, webhookOut } from '../presenters.js';
import { AppRef, IdParams, WebhookIn, WebhookOut, WebhookPatch, WebhookPut } from '../webhooks.schema.js';
import type { ApiDeps, AuthFn } from '../deps.js';

const deprecationHeader = (ctx: { set(k: string, v: string): void }, notes: string[]) => {
  if (notes.length) ctx.set('deprecation', notes.join('; '));
};

/** Create, register by uid, list, read, change, delete. */
export function webhookCrudRoutes(router: Router, deps: ApiDeps, auth: AuthFn) {
  const { webhooks } = deps.services;

  route(router, auth, {
    method: 'post', path: '/v1/webhooks', role: 'manage', tag: 'webhooks', summary: 'Create a webhook (the secret is shown once)',
    body: WebhookIn, responses: { 201: WebhookOut, 409: null },
    handler: async (ctx, { body, auth: a }) => {
      const { webhook, deprecations } = await webhooks.create(a, body);
      deprecationHeader(ctx, deprecations);
      ctx.status = 201;
      return webhookOut(webhook, 'unknown', { secret: true });
    },
  });

  route(router, auth, {
    method: 'put', path: '/v1/webhooks/uid/{uid}', role: 'manage', tag: 'webhooks',
    summary: 'Register the webhook of a customer source by uid: create, or replace the existing one (the secret stays unless given)',
    params: z.object({ uid: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/) }),
    body: WebhookPut, responses: { 200: WebhookOut, 201: WebhookOut },
    handler: async (ctx, { body, params, auth: a }) => {
      const { webhook, created, health, deprecations } = await webhooks.register(a, params.uid, body);
      deprecationHeader(ctx, deprecations);
      ctx.status = created ? 201 : 200;
      return webhookOut(webhook, health, { secret: created || body.secret !== undefined });
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks', role: 'manage', tag: 'webhooks', summary: 'List webhooks (secret is always null)',
    query: z.object({ ...pageQuery, status: z.enum(['active', 'disabled']).optional(), event: z.string().optional(), uid: z.string().optional(), application: AppRef.optional() }).strict(),
    responses: { 200: z.object({ data: z.array(WebhookOut), pagination: z.object({ page: z.number(), per_page: z.number(), total: z.number(), has_more: z.boolean() }) }) },
    handler: async (_ctx, { query, auth: a }) => {
      const { items, total } = await webhooks.list(a, { status: query.status, uid: query.uid, event: query.event, application: query.application }, query);
      return paginate(items.map((i) => webhookOut(i.webhook, i.health)), query.page, query.per_page, total);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks/{id}', role: 'manage', tag: 'webhooks',
    summary: 'Get a webhook with its 10 most recent deliveries and their attempts',
    params: IdParams, query: z.object({ include_secret: z.enum(['true', 'false']).default('false') }).strict(),
    responses: { 200: WebhookOut },
    handler: async (_ctx, { params, query, auth: a }) => {
      const { webhook, health, recent } = await webhooks.get(a, asId('wh', params.id));
      return {
        ...webhookOut(webhook, health, { secret: query.include_secret === 'true' }),
        recent_deliveries: recent.map((r) => deliveryOut(r.delivery, r.event, r.attempts)),
      };
    },
  });

  route(router, auth, {
    method: 'patch', path: '/v1/webhooks/{id}', role: 'manage', tag: 'webhooks',
    summary: 'Change a webhook; disabled: true pauses (deliveries hold), false resumes; recover_since also starts a recovery',
    params: IdParams, body: WebhookPatch, responses: { 200: WebhookOut },
    handler: async (ctx, { params, body, auth: a }) => {
      const { webhook, health, recovery, deprecations } = await webhooks.update(a, asId('wh', params.id), body);
      deprecationHeader(ctx, deprecations);
      return { ...webhookOut(webhook, health), ...(recovery ? { recovery: recoveryOut(recovery) } : {}) };
    },
  });

  route(router, auth, {
    method: 'delete', path: '/v1/webhooks/{id}', role: 'manage', tag: 'webhooks',
    summary: 'Delete a webhook: nothing more is delivered; running deliveries end cancelled',
    params: IdParams, responses: { 204: null },
    handler: async (ctx, { params, auth: a }) => {
      await webhooks.remove(a, asId('wh', params.id));
      ctx.status = 204;
      return undefined;
    },
  });
}
