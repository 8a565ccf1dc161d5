import Router from '@koa/router';
import type { z as Z } from 'zod';
import { AppError, notFound, unknownEventType, validationFailed, type ErrorDetail } from '../errors.js';
import { newId } from '../domain/ids.js';
import { compileFilter } from '../domain/filters.js';
import { generateSecret } from '../domain/signature.js';
import { DEFAULT_RETRY_SCHEDULE, validateSchedule } from '../domain/schedule.js';
import { parseDuration } from '../domain/durations.js';
import { guard, isDuplicateKey } from '../storage/mongo.js';
import type { WebhookDoc } from '../storage/types.js';
import { webhookHealth, webhookStats } from '../services/health.js';
import { deprecationNote, requireLiveType } from '../services/event-types.js';
import { markWebhooksChanged } from '../services/webhook-index.js';
import { z } from './openapi.js';
import { createdBetween, findPage, pageQuery, paginate, route } from './route.js';
import { deliveryOut, recoveryOut, webhookOut } from './presenters.js';
import {
  DeliveryOut, IdParams, RecoverIn, RecoveryOut, RotateIn, StatsOut, TestIn, WebhookIn, WebhookOut, WebhookPatch, WebhookPut,
} from './webhooks.schema.js';
import type { ApiDeps, AuthFn } from './deps.js';

const PREVIOUS_SECRET_TTL_MS = 24 * 3600 * 1000;

type WebhookFields = Partial<Z.infer<typeof WebhookIn>>;

export function webhooksRouter(deps: ApiDeps, auth: AuthFn): Router {
  const router = new Router();
  const { store, config, control } = deps;
  const { c } = store;

  async function load(orgId: string, id: string): Promise<WebhookDoc> {
    const wh = await guard(() => c.webhooks.findOne({ _id: id, org_id: orgId }));
    if (!wh) throw notFound('webhook');
    return wh;
  }

  /** Checks the fields that need more than zod: url policy, live event names, filter, schedule. Returns deprecation notes. */
  async function checkFields(orgId: string, f: WebhookFields): Promise<string[]> {
    const problems: ErrorDetail[] = [];
    if (f.url !== undefined) {
      let url: URL | null = null;
      try {
        url = new URL(f.url);
      } catch {
        problems.push({ path: 'url', message: 'must be an absolute URL' });
      }
      if (url) {
        const allowed = config.allowHttpTargets ? ['https:', 'http:'] : ['https:'];
        if (!allowed.includes(url.protocol)) problems.push({ path: 'url', message: config.allowHttpTargets ? 'must be an http(s) URL' : 'must be an https URL' });
        if (url.username || url.password) problems.push({ path: 'url', message: 'must not contain credentials; use a custom header' });
      }
    }
    if (f.retry_schedule) {
      for (const p of validateSchedule(f.retry_schedule)) problems.push({ path: `retry_schedule.${p.index}`, message: p.message });
    }
    if (f.filter) {
      try {
        compileFilter(f.filter);
      } catch (err) {
        problems.push({ path: 'filter', message: (err as Error).message });
      }
    }
    if (problems.length) throw validationFailed('the webhook is not valid', problems);
    const deprecations: string[] = [];
    for (const [i, name] of (f.events ?? []).entries()) {
      if (name === '*') continue;
      if (name.endsWith('.*')) {
        if (!/^[A-Za-z0-9_]+([.\-][A-Za-z0-9_]+)*\.\*$/.test(name)) throw unknownEventType(name, `events.${i}`);
        continue;
      }
      const { doc, deprecated } = await requireLiveType(store, orgId, name, `events.${i}`);
      if (deprecated) deprecations.push(deprecationNote(doc));
    }
    return deprecations;
  }

  function applyFields(f: WebhookFields): Partial<WebhookDoc> {
    const out: Partial<WebhookDoc> = {};
    if (f.url !== undefined) out.url = f.url;
    if (f.events !== undefined) out.events = f.events && [...new Set(f.events)];
    if (f.channels !== undefined) out.channels = f.channels;
    if (f.filter !== undefined) out.filter = f.filter ? JSON.stringify(f.filter) : null;
    if (f.headers !== undefined) out.headers = toHeaderList(f.headers);
    if (f.retry_schedule !== undefined) out.retry_schedule = f.retry_schedule;
    if (f.timeout_ms !== undefined) out.timeout_ms = f.timeout_ms;
    if (f.rate_limit_per_s !== undefined) out.rate_limit_per_s = f.rate_limit_per_s;
    if (f.description !== undefined) out.description = f.description;
    if (f.uid !== undefined) out.uid = f.uid;
    return out;
  }

  function newWebhook(orgId: string, f: WebhookFields & { url: string }): WebhookDoc {
    const now = new Date();
    return {
      _id: newId('wh'),
      org_id: orgId,
      uid: f.uid ?? null,
      url: f.url,
      description: f.description ?? '',
      events: f.events ? [...new Set(f.events)] : null,
      channels: f.channels ?? null,
      filter: f.filter ? JSON.stringify(f.filter) : null,
      headers: toHeaderList(f.headers ?? {}),
      retry_schedule: f.retry_schedule ?? DEFAULT_RETRY_SCHEDULE,
      timeout_ms: f.timeout_ms ?? config.defaultTimeoutMs,
      rate_limit_per_s: f.rate_limit_per_s ?? null,
      status: 'active',
      disabled_reason: null,
      secret: f.secret ?? generateSecret(),
      previous_secret: null,
      previous_secret_expires_at: null,
      created_at: now,
      updated_at: now,
    };
  }

  const uidKey = (orgId: string, uid: string) => `${orgId}:${uid}`;

  /**
   * The webhook holding a uid, by its claim document. A claim left by a request that died before inserting its
   * webhook is released after a minute.
   */
  async function holderOf(orgId: string, uid: string): Promise<WebhookDoc | null> {
    const claim = await c.webhookUids.findOne({ _id: uidKey(orgId, uid) });
    if (!claim) return null;
    const wh = await c.webhooks.findOne({ _id: claim.webhook_id });
    if (!wh && Date.now() - claim.created_at.getTime() > 60_000) await c.webhookUids.deleteOne({ _id: claim._id });
    return wh;
  }

  /** Claims a uid for a webhook; false if another webhook (or a request creating one right now) holds it. */
  async function claimUid(orgId: string, uid: string, webhookId: string): Promise<boolean> {
    try {
      await c.webhookUids.insertOne({ _id: uidKey(orgId, uid), org_id: orgId, webhook_id: webhookId, created_at: new Date() });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  const present = async (wh: WebhookDoc, secret = false) => webhookOut(wh, await webhookHealth(store, wh._id), { secret });
  const deprecationHeader = (ctx: { set(k: string, v: string): void }, notes: string[]) => {
    if (notes.length) ctx.set('deprecation', notes.join('; '));
  };

  route(router, auth, {
    method: 'post', path: '/v1/webhooks', role: 'admin', tag: 'webhooks', summary: 'Create a webhook (the secret is shown once)',
    body: WebhookIn, responses: { 201: WebhookOut, 409: null },
    handler: async (ctx, { body, auth: a }) => {
      if (body.url === undefined) throw validationFailed('url is required', [{ path: 'url', message: 'required' }]);
      const notes = await checkFields(a.orgId, body);
      const wh = newWebhook(a.orgId, body);
      await guard(async () => {
        if (wh.uid && !(await claimUid(a.orgId, wh.uid, wh._id))) {
          await holderOf(a.orgId, wh.uid); // releases a stale claim for the next try
          throw new AppError(409, 'conflict', `a webhook with uid ${wh.uid} exists; PUT /v1/webhooks/uid/${wh.uid} replaces it`);
        }
        await c.webhooks.insertOne(wh);
        await markWebhooksChanged(store, a.orgId);
      });
      deprecationHeader(ctx, notes);
      ctx.status = 201;
      return webhookOut(wh, 'unknown', { secret: true });
    },
  });

  route(router, auth, {
    method: 'put', path: '/v1/webhooks/uid/{uid}', role: 'admin', tag: 'webhooks',
    summary: 'Register the webhook of a customer source by uid: create, or replace the existing one (the secret stays unless given)',
    params: z.object({ uid: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/) }),
    body: WebhookPut, responses: { 200: WebhookOut, 201: WebhookOut },
    handler: async (ctx, { body, params, auth: a }) => {
      if (body.url === undefined) throw validationFailed('url is required', [{ path: 'url', message: 'required' }]);
      const notes = await checkFields(a.orgId, body);
      deprecationHeader(ctx, notes);
      let existing = await guard(() => holderOf(a.orgId, params.uid));
      if (!existing) {
        const wh = newWebhook(a.orgId, { ...body, uid: params.uid });
        if (await guard(() => claimUid(a.orgId, params.uid, wh._id))) {
          await guard(async () => {
            await c.webhooks.insertOne(wh);
            await markWebhooksChanged(store, a.orgId);
          });
          ctx.status = 201;
          return webhookOut(wh, 'unknown', { secret: true });
        }
        // A concurrent registration of the same uid won: this one replaces what it created.
        for (let i = 0; i < 40 && !existing; i++) {
          existing = await guard(() => holderOf(a.orgId, params.uid));
          if (!existing) await new Promise((r) => setTimeout(r, 50));
        }
        if (!existing) throw new AppError(409, 'conflict', `webhook uid ${params.uid} is being registered by another request; retry`);
      }
      // Registering again replaces the whole configuration; fields left out return to their defaults.
      const fresh = newWebhook(a.orgId, { ...body, uid: params.uid });
      const replaced: WebhookDoc = {
        ...fresh,
        _id: existing._id,
        secret: body.secret ?? existing.secret,
        previous_secret: existing.previous_secret,
        previous_secret_expires_at: existing.previous_secret_expires_at,
        status: existing.status,
        disabled_reason: existing.disabled_reason,
        created_at: existing.created_at,
      };
      await guard(async () => {
        await c.webhooks.replaceOne({ _id: existing._id }, replaced);
        await markWebhooksChanged(store, a.orgId);
      });
      ctx.status = 200;
      return webhookOut(replaced, await webhookHealth(store, replaced._id), { secret: body.secret !== undefined });
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks', role: 'admin', tag: 'webhooks', summary: 'List webhooks (secret is always null)',
    query: z.object({ ...pageQuery, status: z.enum(['active', 'disabled']).optional(), event: z.string().optional(), uid: z.string().optional() }).strict(),
    responses: { 200: z.object({ data: z.array(WebhookOut), pagination: z.object({ page: z.number(), per_page: z.number(), total: z.number(), has_more: z.boolean() }) }) },
    handler: async (_ctx, { query, auth: a }) => {
      const filter: Record<string, unknown> = { org_id: a.orgId };
      if (query.status) filter.status = query.status;
      if (query.uid) filter.uid = query.uid;
      if (query.event) filter.$or = [{ events: null }, { events: query.event }, { events: '*' }, { events: `${query.event.split('.')[0]}.*` }];
      return guard(async () => {
        const { docs, total } = await findPage(c.webhooks, filter, { created_at: -1 }, query);
        return paginate(await Promise.all(docs.map((d) => present(d))), query.page, query.per_page, total);
      });
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks/{id}', role: 'admin', tag: 'webhooks',
    summary: 'Get a webhook with its 10 most recent deliveries and their attempts',
    params: IdParams, query: z.object({ include_secret: z.enum(['true', 'false']).default('false') }).strict(),
    responses: { 200: WebhookOut },
    handler: async (_ctx, { params, query, auth: a }) => {
      const wh = await load(a.orgId, params.id);
      return guard(async () => {
        const recent = await c.deliveries.find({ webhook_id: wh._id }).sort({ created_at: -1 }).limit(10).toArray();
        const [events, attempts] = await Promise.all([
          c.events.find({ _id: { $in: recent.map((d) => d.event_id) } }).toArray(),
          c.attempts.find({ delivery_id: { $in: recent.map((d) => d._id) } }).sort({ attempt: 1 }).toArray(),
        ]);
        const eventById = new Map(events.map((e) => [e._id, e]));
        return {
          ...(await present(wh, query.include_secret === 'true')),
          recent_deliveries: recent.map((d) => deliveryOut(d, eventById.get(d.event_id), attempts.filter((x) => x.delivery_id === d._id))),
        };
      });
    },
  });

  route(router, auth, {
    method: 'patch', path: '/v1/webhooks/{id}', role: 'admin', tag: 'webhooks',
    summary: 'Change a webhook; disabled: true pauses (deliveries hold), false resumes; recover_since also starts a recovery',
    params: IdParams, body: WebhookPatch, responses: { 200: WebhookOut },
    handler: async (ctx, { params, body, auth: a }) => {
      const wh = await load(a.orgId, params.id);
      const notes = await checkFields(a.orgId, body);
      deprecationHeader(ctx, notes);
      const set = applyFields(body);
      if (body.uid !== undefined && body.uid !== wh.uid) {
        if (body.uid && !(await guard(() => claimUid(a.orgId, body.uid!, wh._id)))) {
          throw new AppError(409, 'conflict', `another webhook has uid ${body.uid}`);
        }
        if (wh.uid) await guard(() => c.webhookUids.deleteOne({ _id: uidKey(a.orgId, wh.uid!) }));
      }
      if (body.secret) Object.assign(set, rotation(wh, body.secret));
      await guard(async () => {
        await c.webhooks.updateOne({ _id: wh._id }, { $set: { ...set, updated_at: new Date() } });
        await markWebhooksChanged(store, a.orgId);
      });
      let recovery;
      await guard(async () => {
        if (body.disabled === true && wh.status === 'active') await control.pause(wh, 'user');
        if (body.disabled === false && wh.status === 'disabled') await control.resume(wh);
        if (body.recover_since) recovery = recoveryOut(await control.startRecovery(wh, new Date(body.recover_since), null));
      });
      const updated = await load(a.orgId, wh._id);
      return { ...(await present(updated)), ...(recovery ? { recovery } : {}) };
    },
  });

  route(router, auth, {
    method: 'delete', path: '/v1/webhooks/{id}', role: 'admin', tag: 'webhooks',
    summary: 'Delete a webhook: nothing more is delivered; running deliveries end cancelled',
    params: IdParams, responses: { 204: null },
    handler: async (ctx, { params, auth: a }) => {
      const wh = await load(a.orgId, params.id);
      await guard(async () => {
        await control.remove(wh);
        if (wh.uid) await c.webhookUids.deleteOne({ _id: uidKey(a.orgId, wh.uid) });
      });
      ctx.status = 204;
      return undefined;
    },
  });

  const rotation = (wh: WebhookDoc, secret: string) => ({
    secret,
    previous_secret: wh.secret,
    previous_secret_expires_at: new Date(Date.now() + PREVIOUS_SECRET_TTL_MS),
  });

  route(router, auth, {
    method: 'post', path: '/v1/webhooks/{id}/rotate-secret', role: 'admin', tag: 'webhooks',
    summary: 'Rotate the signing secret; the previous one keeps signing (second signature) for 24 h',
    params: IdParams, body: RotateIn, responses: { 200: z.object({ secret: z.string() }) },
    handler: async (_ctx, { params, body, auth: a }) => {
      const wh = await load(a.orgId, params.id);
      const secret = body.secret ?? generateSecret();
      await guard(async () => {
        await c.webhooks.updateOne({ _id: wh._id }, { $set: { ...rotation(wh, secret), updated_at: new Date() } });
        await markWebhooksChanged(store, a.orgId);
      });
      return { secret };
    },
  });

  route(router, auth, {
    method: 'post', path: '/v1/webhooks/{id}/recover', role: 'admin', tag: 'webhooks',
    summary: 'Re-deliver every delivery of this webhook that ended failed with created_at in [since, until)',
    params: IdParams, body: RecoverIn, responses: { 202: RecoveryOut },
    handler: async (ctx, { params, body, auth: a }) => {
      const wh = await load(a.orgId, params.id);
      const rec = await guard(() => control.startRecovery(wh, new Date(body.since), body.until ? new Date(body.until) : null));
      ctx.status = 202;
      return recoveryOut(rec);
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks/{id}/recoveries/{rcv_id}', role: 'admin', tag: 'webhooks', summary: 'A recover task',
    params: z.object({ id: z.string().max(128), rcv_id: z.string().max(128) }), responses: { 200: RecoveryOut },
    handler: async (_ctx, { params, auth: a }) => {
      const rec = await guard(() => c.recoveries.findOne({ _id: params.rcv_id, webhook_id: params.id, org_id: a.orgId }));
      if (!rec) throw notFound('recovery');
      return recoveryOut(rec);
    },
  });

  route(router, auth, {
    method: 'post', path: '/v1/webhooks/{id}/test', role: 'admin', tag: 'webhooks',
    summary: 'Send a test event to this webhook only and wait for its first attempt',
    params: IdParams, body: TestIn, responses: { 200: DeliveryOut },
    handler: async (_ctx, { params, body, auth: a }) => {
      const wh = await load(a.orgId, params.id);
      const type = body.event_type ?? 'webhook.test';
      const data = body.data ?? { message: 'hello from hookrelay', webhook_id: wh._id };
      const deliveryId = await deps.publisher.publishTo(a.orgId, wh, { type, data });
      const deadline = Date.now() + wh.timeout_ms + 5000;
      for (;;) {
        const d = await guard(() => c.deliveries.findOne({ _id: deliveryId }));
        if (d && (d.attempt > 0 || d.status !== 'pending' || Date.now() > deadline)) {
          const [event, attempts] = await Promise.all([c.events.findOne({ _id: d.event_id }), c.attempts.find({ delivery_id: d._id }).sort({ attempt: 1 }).toArray()]);
          return deliveryOut(d, event ?? undefined, attempts);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks/{id}/stats', role: 'admin', tag: 'webhooks', summary: 'Delivery statistics and health over a window',
    params: IdParams, query: z.object({ window: z.string().default('24h') }).strict(), responses: { 200: StatsOut },
    handler: async (_ctx, { params, query, auth: a }) => {
      const wh = await load(a.orgId, params.id);
      const ms = parseDuration(query.window);
      if (ms === null || ms <= 0 || ms > 90 * 24 * 3600 * 1000) throw validationFailed('window must be a duration like 1h, 24h, 7d (≤ 90d)', [{ path: 'window', message: 'invalid' }]);
      return { window: query.window, ...(await guard(() => webhookStats(store, wh._id, ms))) };
    },
  });

  route(router, auth, {
    method: 'get', path: '/v1/webhooks/{id}/deliveries', role: 'admin', tag: 'deliveries', summary: 'The delivery log of a webhook, newest first',
    params: IdParams,
    query: z.object({
      ...pageQuery,
      status: z.enum(['pending', 'delivered', 'failed', 'paused', 'cancelled']).optional(),
      event: z.string().optional(),
      since: z.string().datetime({ offset: true }).optional(),
      until: z.string().datetime({ offset: true }).optional(),
    }).strict(),
    responses: { 200: z.object({ data: z.array(DeliveryOut), pagination: z.object({ page: z.number(), per_page: z.number(), total: z.number(), has_more: z.boolean() }) }) },
    handler: async (_ctx, { params, query, auth: a }) => {
      const wh = await load(a.orgId, params.id);
      const filter: Record<string, unknown> = { webhook_id: wh._id };
      if (query.status) filter.status = query.status;
      if (query.event) filter.event_type = query.event;
      Object.assign(filter, createdBetween(query.since, query.until));
      return guard(async () => {
        const { docs, total } = await findPage(c.deliveries, filter, { created_at: -1 }, query);
        const events = await c.events.find({ _id: { $in: docs.map((d) => d.event_id) } }).toArray();
        const byId = new Map(events.map((e) => [e._id, e]));
        return paginate(docs.map((d) => deliveryOut(d, byId.get(d.event_id))), query.page, query.per_page, total);
      });
    },
  });

  return router;
}

const toHeaderList = (h: Record<string, string>) => Object.entries(h).map(([name, value]) => ({ name, value }));
