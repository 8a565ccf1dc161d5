import { AppError, conflict, UnavailableError } from '../errors.js';
import { newId } from '../domain/ids.js';
import { channelsMatch, compileStoredFilter, eventTypeMatches, type Envelope } from '../domain/filters.js';
import { scheduleToMs } from '../domain/schedule.js';
import { guard, isDuplicateKey, type Store } from '../storage/mongo.js';
import type { DeliveryDoc, EventDoc, WebhookDoc } from '../storage/types.js';
import { deliveryWorkflowId, eachLimit, startDelivery, type Temporal } from '../temporal.js';
import type { Logger } from '../log.js';
import { INLINE_BODY_MAX } from '../../workflows/types.js';
import { createWebhookIndex } from './webhook-index.js';
import { deprecationNote, requireLiveType, validateData } from './event-types.js';

export type PublishInput = {
  type: string;
  data: unknown;
  id?: string;
  channels?: string[];
  timestamp?: string;
  raw?: boolean;
};

export type PublishResult = { id: string; type: string; timestamp: string; deliveries: number };

const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
const OPERATIONAL_TYPES = new Set(['webhook.disabled']);

export function resultOf(event: EventDoc): PublishResult {
  return { id: event._id, type: event.type, timestamp: event.timestamp.toISOString(), deliveries: event.matched.length };
}

export type Publisher = ReturnType<typeof createPublisher>;

/**
 * Publishing = persist the event (with the list of webhooks it matched) → one delivery record and one workflow
 * per match. The event document is the outbox: if the process dies before the fan-out is marked done, the
 * sweep finishes it from `matched`, and idempotent workflow ids make a second start a no-op.
 */
export function createPublisher(deps: { store: Store; temporal: Temporal; log: Logger }) {
  const { store, temporal, log } = deps;
  const { c } = store;
  const webhookIndex = createWebhookIndex(store);

  /** Validates one input; returns the deprecation note if its type is deprecated. */
  async function check(orgId: string, input: PublishInput, path: string): Promise<string | null> {
    const { doc, deprecated } = await requireLiveType(store, orgId, input.type, `${path}type`);
    validateData(doc, input.data, `${path}data`);
    return deprecated ? deprecationNote(doc) : null;
  }

  async function matchWebhooks(orgId: string, envelope: Envelope): Promise<WebhookDoc[]> {
    const candidates = await webhookIndex.active(orgId);
    // Operational events (webhook.disabled names another customer's endpoint) go only to webhooks that list them.
    const operational = OPERATIONAL_TYPES.has(envelope.type);
    return candidates.filter(
      (wh) =>
        (operational ? (wh.events ?? []).includes(envelope.type) : eventTypeMatches(wh.events, envelope.type)) &&
        channelsMatch(wh.channels, envelope.channels) &&
        (wh.filter === null || compileStoredFilter(wh.filter)(envelope)),
    );
  }

  async function idempotentExisting(orgId: string, key: string): Promise<{ eventId: string; event: EventDoc | null } | null> {
    const rec = await c.idempotency.findOne({ _id: `${orgId}:${key}` });
    if (!rec || Date.now() - rec.created_at.getTime() > IDEMPOTENCY_WINDOW_MS) return null;
    return { eventId: rec.event_id, event: await c.events.findOne({ _id: rec.event_id }) };
  }

  /** Claims the idempotency key for `eventId`; returns the event id that owns it (ours, or a racing request's). */
  async function claimKey(orgId: string, key: string, eventId: string): Promise<string> {
    const _id = `${orgId}:${key}`;
    try {
      await c.idempotency.insertOne({ _id, org_id: orgId, event_id: eventId, created_at: new Date() });
      return eventId;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const rec = await c.idempotency.findOne({ _id });
    if (rec && Date.now() - rec.created_at.getTime() <= IDEMPOTENCY_WINDOW_MS) return rec.event_id;
    // The key was used more than 24 h ago: it is free again.
    await c.idempotency.updateOne({ _id }, { $set: { event_id: eventId, created_at: new Date() } });
    return eventId;
  }

  /**
   * After the event is stored it is acknowledged: if Temporal fails half-way through the fan-out, the sweep
   * finishes it when Temporal is back. Before anything is stored, a Temporal known to be down means 503.
   */
  async function fanoutOrDefer(event: EventDoc, known?: WebhookDoc[]): Promise<void> {
    try {
      await fanout(event, known);
    } catch (err) {
      // The event and its outbox entry are stored: answering an error now would invite a duplicate publish.
      const level = err instanceof UnavailableError ? 'warn' : 'error';
      log[level]({ err, event: event._id }, 'fan-out deferred to the sweep');
    }
  }

  async function publish(orgId: string, input: PublishInput, idempotencyKey?: string): Promise<{ result: PublishResult; deprecation: string | null }> {
    return guard(async () => {
      const deprecation = await check(orgId, input, '');
      await temporal.requireUp();
      const key = idempotencyKey ? `key:${idempotencyKey}` : input.id ? `id:${input.id}` : null;
      let eventId = newId('evt');
      if (key) {
        const existing = await idempotentExisting(orgId, key);
        if (existing?.event) return { result: await finishExisting(existing.event), deprecation };
        eventId = existing?.eventId ?? (await claimKey(orgId, key, eventId));
        const raced = await c.events.findOne({ _id: eventId });
        if (raced) return { result: await finishExisting(raced), deprecation };
      }
      let stored: { event: EventDoc; webhooks?: WebhookDoc[] };
      try {
        stored = await persist(orgId, eventId, input);
      } catch (err) {
        // A concurrent request with the same key is storing this very event: answer what it answers.
        if (!key || !(err instanceof AppError && err.code === 'conflict')) throw err;
        const event = await waitForEvent(eventId);
        if (!event) throw err;
        return { result: await finishExisting(event), deprecation };
      }
      await fanoutOrDefer(stored.event, stored.webhooks);
      return { result: resultOf(stored.event), deprecation };
    });
  }

  /** All-or-nothing: every event is validated before any is stored. */
  async function publishBatch(orgId: string, inputs: PublishInput[]): Promise<{ results: PublishResult[]; deprecations: string[] }> {
    return guard(async () => {
      const deprecations: string[] = [];
      for (const [i, input] of inputs.entries()) {
        const d = await check(orgId, input, `events.${i}.`);
        if (d) deprecations.push(d);
      }
      await temporal.requireUp();
      // Events of a batch are independent: store and fan them out several at a time, answering in input order.
      const results: PublishResult[] = new Array(inputs.length);
      await eachLimit([...inputs.keys()], 8, async (i) => {
        const input = inputs[i];
        if (input.id) {
          const existing = await idempotentExisting(orgId, `id:${input.id}`);
          if (existing?.event) {
            results[i] = await finishExisting(existing.event);
            return;
          }
        }
        const eventId = input.id ? await claimKey(orgId, `id:${input.id}`, newId('evt')) : newId('evt');
        const stored = await c.events.findOne({ _id: eventId });
        const { event, webhooks } = stored ? { event: stored, webhooks: undefined } : await persist(orgId, eventId, input);
        results[i] = resultOf(event);
        await fanoutOrDefer(event, webhooks);
      });
      return { results, deprecations };
    });
  }

  async function waitForEvent(eventId: string): Promise<EventDoc | null> {
    for (let i = 0; i < 20; i++) {
      const event = await c.events.findOne({ _id: eventId });
      if (event) return event;
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  }

  async function finishExisting(event: EventDoc): Promise<PublishResult> {
    if (await c.outbox.findOne({ _id: event._id })) await fanoutOrDefer(event);
    return resultOf(event);
  }

  async function persist(orgId: string, eventId: string, input: PublishInput, only?: WebhookDoc): Promise<{ event: EventDoc; webhooks: WebhookDoc[] }> {
    const timestamp = input.timestamp ? new Date(input.timestamp) : new Date();
    const envelope: Envelope = { id: eventId, type: input.type, timestamp: timestamp.toISOString(), channels: input.channels ?? null, data: input.data };
    const matched = only ? [only] : await matchWebhooks(orgId, envelope);
    const body = input.raw ? JSON.stringify(input.data) : JSON.stringify({ id: eventId, type: input.type, timestamp: envelope.timestamp, data: input.data });
    const event: EventDoc = {
      _id: eventId,
      org_id: orgId,
      type: input.type,
      timestamp,
      channels: input.channels ?? null,
      body,
      raw: input.raw ?? false,
      matched: matched.map((w) => w._id),
      created_at: new Date(),
    };
    try {
      // The outbox entry goes first: once the event exists, something is sure to finish its fan-out.
      if (matched.length > 0) await c.outbox.insertOne({ _id: eventId, org_id: orgId, created_at: event.created_at });
      await c.events.insertOne(event);
    } catch (err) {
      if (isDuplicateKey(err)) throw conflict(`event ${eventId} already exists`);
      throw err;
    }
    return { event, webhooks: matched };
  }

  /**
   * Creates the delivery records and starts the workflows for an event's matched webhooks. Idempotent.
   * `known` are the webhooks just matched by persist(): a fresh event needs neither re-reading them nor
   * looking for deliveries that cannot exist yet.
   */
  async function fanout(event: EventDoc, known?: WebhookDoc[]): Promise<void> {
    if (event.matched.length === 0) return;
    const webhooks = known ?? (await c.webhooks.find({ _id: { $in: event.matched } }).toArray());
    const now = new Date();
    const existing = known ? [] : await c.deliveries.find({ event_id: event._id }).toArray();
    const byWebhook = new Map(existing.map((d) => [d.webhook_id, d]));
    const fresh: DeliveryDoc[] = [];
    for (const wh of webhooks) {
      if (byWebhook.has(wh._id)) continue;
      const d: DeliveryDoc = {
        _id: newId('dlv'),
        org_id: event.org_id,
        webhook_id: wh._id,
        event_id: event._id,
        event_type: event.type,
        status: 'pending',
        attempt: 0,
        status_code: null,
        last_error: null,
        last_duration_ms: null,
        next_attempt_at: now,
        delivered_at: null,
        ended_at: null,
        created_at: now,
        updated_at: now,
        workflow_id: deliveryWorkflowId(wh._id, event._id),
      };
      fresh.push(d);
      byWebhook.set(wh._id, d);
    }
    if (fresh.length > 0) {
      try {
        await c.deliveries.insertMany(fresh, { ordered: false });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // A racing fan-out inserted some: use whichever record won.
        for (const d of await c.deliveries.find({ event_id: event._id }).toArray()) byWebhook.set(d.webhook_id, d);
      }
    }
    const body = event.body.length <= INLINE_BODY_MAX ? event.body : undefined;
    await eachLimit(webhooks, 16, async (wh) => {
      const d = byWebhook.get(wh._id)!;
      await startDelivery(temporal, {
        orgId: event.org_id,
        webhookId: wh._id,
        eventId: event._id,
        deliveryId: d._id,
        eventType: event.type,
        scheduleMs: scheduleToMs(wh.retry_schedule),
        attemptsBefore: 0,
        body,
      }, wh.url);
    });
    // The fan-out is done; removing its entry is cleanup the answer need not wait for (the sweep removes leftovers).
    c.outbox.deleteOne({ _id: event._id }).catch((err) => log.warn({ err, event: event._id }, 'outbox cleanup deferred to the sweep'));
  }

  /**
   * Finishes fan-outs that a crash left half-done. Runs in the API process on an interval; it reads only the
   * outbox, which holds just the fan-outs in progress.
   */
  async function sweep(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const entries = (await c.outbox.find({}).limit(1000).toArray()).filter((o) => o.created_at.getTime() < cutoff);
    let finished = 0;
    for (const entry of entries) {
      try {
        const event = await c.events.findOne({ _id: entry._id });
        if (event) {
          await fanout(event);
          finished++;
        } else if (Date.now() - entry.created_at.getTime() > 60_000) {
          // The process died between the outbox entry and the event: that event was never acknowledged.
          await c.outbox.deleteOne({ _id: entry._id });
        }
      } catch (err) {
        log.warn({ err, event: entry._id }, 'fan-out sweep failed; will retry');
        break;
      }
    }
    if (finished) log.info({ count: finished }, 'fan-out sweep finished stuck events');
    return finished;
  }

  /** A test event for one webhook only (POST /v1/webhooks/{id}/test). Returns the delivery id. */
  async function publishTo(orgId: string, wh: WebhookDoc, input: PublishInput): Promise<string> {
    return guard(async () => {
      const { doc } = await requireLiveType(store, orgId, input.type, 'event_type');
      validateData(doc, input.data, 'data');
      const { event, webhooks } = await persist(orgId, newId('evt'), input, wh);
      await fanout(event, webhooks);
      const d = await c.deliveries.findOne({ event_id: event._id, webhook_id: wh._id });
      return d!._id;
    });
  }

  return { publish, publishBatch, publishTo, fanout, sweep };
}
