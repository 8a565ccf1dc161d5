import { AppError, notFound } from '../errors.js';
import type { AppId, DeliveryId, EventId, WebhookId } from '../domain/ids.js';
import type { Store } from '../storage/mongo.js';
import type { PageQuery } from '../storage/page.js';
import type { DeliveryListFilter } from '../storage/repos/deliveries.js';
import { tenant } from '../storage/tenant.js';
import type { AttemptDoc, DeliveryDoc, EventDoc } from '../storage/types.js';
import type { ApplicationService } from './applications.js';
import type { Control } from './control.js';
import { sees, type Scope } from './orgs.js';

export type EventListFilter = { type?: string; since?: Date | null; until?: Date | null; application?: string };

/**
 * The delivery log: one delivery with its attempts, a webhook's deliveries, an event with its deliveries. Every
 * read checks the scope: an application key sees only its application's, anything else answers 404.
 */
export function deliveryService(deps: { store: Store; control: Control; applications: ApplicationService }) {
  const { store, control, applications } = deps;

  async function load(scope: Scope, id: DeliveryId): Promise<DeliveryDoc> {
    const d = await tenant(store, scope.orgId).deliveries.get(id);
    if (!d || !sees(scope, d.application_id)) throw notFound('delivery');
    return d;
  }

  /** The application a list is narrowed to: the one named (id or uid), else an application key's own. */
  async function narrowTo(scope: Scope, ref: string | undefined): Promise<AppId | null | undefined> {
    if (ref) return (await applications.resolve(scope, ref))._id;
    return scope.applicationId ?? undefined;
  }

  return {
    async get(scope: Scope, id: DeliveryId): Promise<{ delivery: DeliveryDoc; event?: EventDoc; attempts: AttemptDoc[] }> {
      const t = tenant(store, scope.orgId);
      const d = await load(scope, id);
      const [event, attempts] = await Promise.all([t.events.get(d.event_id), t.deliveries.attempts.of(d._id)]);
      return { delivery: d, event: event ?? undefined, attempts };
    },

    /** Attempts a delivery again now (same event id; the attempt count continues). */
    async retry(scope: Scope, id: DeliveryId): Promise<{ delivery: DeliveryDoc; event?: EventDoc }> {
      const t = tenant(store, scope.orgId);
      const d = await load(scope, id);
      const wh = await t.webhooks.get(d.webhook_id);
      if (!wh) throw notFound('webhook of this delivery');
      const event = await t.events.get(d.event_id);
      if (event?.erased_at) throw new AppError(409, 'conflict', 'the payload of this event was erased: it cannot be sent again');
      await control.retry(wh, d, { fullSchedule: false });
      return { delivery: { ...d, status: 'pending', next_attempt_at: new Date() }, event: event ?? undefined };
    },

    /** A webhook's delivery log, newest first (the webhook must be visible in this scope). */
    async ofWebhook(scope: Scope, webhookId: WebhookId, f: DeliveryListFilter, q: PageQuery) {
      const t = tenant(store, scope.orgId);
      const wh = await t.webhooks.get(webhookId);
      if (!wh || !sees(scope, wh.application_id)) throw notFound('webhook');
      const { docs, total } = await t.deliveries.page(webhookId, f, q);
      return { items: await withEvents(scope, docs), total };
    },

    /** An application's deliveries across its webhooks, newest first. */
    async ofApplication(scope: Scope, appId: AppId, f: DeliveryListFilter, q: PageQuery) {
      const { docs, total } = await tenant(store, scope.orgId).deliveries.pageOfApplication(appId, f, q);
      return { items: await withEvents(scope, docs), total };
    },

    async eventWithDeliveries(scope: Scope, id: EventId): Promise<{ event: EventDoc; deliveries: DeliveryDoc[] }> {
      const t = tenant(store, scope.orgId);
      const event = await t.events.get(id);
      if (!event || !sees(scope, event.application_id)) throw notFound('event');
      return { event, deliveries: await t.deliveries.ofEvent(event._id) };
    },

    /**
     * Erases an event's payload (privacy): the stored body keeps only the envelope's id, type and timestamp, the
     * delivery records stay, and it is never sent again. Refused (409) while a delivery of it is still open.
     */
    async eraseEvent(scope: Scope, id: EventId): Promise<EventDoc> {
      const t = tenant(store, scope.orgId);
      const event = await t.events.get(id);
      if (!event || !sees(scope, event.application_id)) throw notFound('event');
      const open = (await t.deliveries.ofEvent(event._id)).filter((d) => d.status === 'pending' || d.status === 'paused');
      if (open.length) throw new AppError(409, 'conflict', `${open.length} deliveries of this event are still open (pending or paused): wait for them to end, or delete their webhooks`);
      const body = JSON.stringify(event.raw ? null : { id: event._id, type: event.type, timestamp: event.timestamp.toISOString(), data: null });
      await t.events.erase(event._id, body);
      return { ...event, body, erased_at: new Date() };
    },

    async listEvents(scope: Scope, f: EventListFilter, q: PageQuery) {
      const application = await narrowTo(scope, f.application);
      return tenant(store, scope.orgId).events.page({ type: f.type, since: f.since, until: f.until, application }, q);
    },
  };

  async function withEvents(scope: Scope, docs: DeliveryDoc[]) {
    const events = await tenant(store, scope.orgId).events.byIds(docs.map((d) => d.event_id));
    const byId = new Map(events.map((e) => [e._id, e]));
    return docs.map((d) => ({ delivery: d, event: byId.get(d.event_id) }));
  }
}

export type DeliveryService = ReturnType<typeof deliveryService>;
