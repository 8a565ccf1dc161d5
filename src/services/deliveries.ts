import { notFound } from '../errors.js';
import type { DeliveryId, EventId, OrgId, WebhookId } from '../domain/ids.js';
import type { Store } from '../storage/mongo.js';
import type { PageQuery } from '../storage/page.js';
import type { DeliveryListFilter } from '../storage/repos/deliveries.js';
import { tenant } from '../storage/tenant.js';
import type { AttemptDoc, DeliveryDoc, EventDoc } from '../storage/types.js';
import type { Control } from './control.js';

/** The delivery log: one delivery with its attempts, a webhook's deliveries, an event with its deliveries. */
export function deliveryService(deps: { store: Store; control: Control }) {
  const { store, control } = deps;

  async function load(orgId: OrgId, id: DeliveryId): Promise<DeliveryDoc> {
    const d = await tenant(store, orgId).deliveries.get(id);
    if (!d) throw notFound('delivery');
    return d;
  }

  return {
    async get(orgId: OrgId, id: DeliveryId): Promise<{ delivery: DeliveryDoc; event?: EventDoc; attempts: AttemptDoc[] }> {
      const t = tenant(store, orgId);
      const d = await load(orgId, id);
      const [event, attempts] = await Promise.all([t.events.get(d.event_id), t.deliveries.attempts.of(d._id)]);
      return { delivery: d, event: event ?? undefined, attempts };
    },

    /** Attempts a delivery again now (same event id; the attempt count continues). */
    async retry(orgId: OrgId, id: DeliveryId): Promise<{ delivery: DeliveryDoc; event?: EventDoc }> {
      const t = tenant(store, orgId);
      const d = await load(orgId, id);
      const wh = await t.webhooks.get(d.webhook_id);
      if (!wh) throw notFound('webhook of this delivery');
      await control.retry(wh, d, { fullSchedule: false });
      const event = await t.events.get(d.event_id);
      return { delivery: { ...d, status: 'pending', next_attempt_at: new Date() }, event: event ?? undefined };
    },

    /** A webhook's delivery log, newest first (the webhook must be this organization's). */
    async ofWebhook(orgId: OrgId, webhookId: WebhookId, f: DeliveryListFilter, q: PageQuery) {
      const t = tenant(store, orgId);
      if (!(await t.webhooks.get(webhookId))) throw notFound('webhook');
      const { docs, total } = await t.deliveries.page(webhookId, f, q);
      const events = await t.events.byIds(docs.map((d) => d.event_id));
      const byId = new Map(events.map((e) => [e._id, e]));
      return { items: docs.map((d) => ({ delivery: d, event: byId.get(d.event_id) })), total };
    },

    async eventWithDeliveries(orgId: OrgId, id: EventId): Promise<{ event: EventDoc; deliveries: DeliveryDoc[] }> {
      const t = tenant(store, orgId);
      const event = await t.events.get(id);
      if (!event) throw notFound('event');
      return { event, deliveries: await t.deliveries.ofEvent(event._id) };
    },

    listEvents: (orgId: OrgId, f: { type?: string; since?: Date | null; until?: Date | null }, q: PageQuery) => tenant(store, orgId).events.page(f, q),
  };
}

export type DeliveryService = ReturnType<typeof deliveryService>;
