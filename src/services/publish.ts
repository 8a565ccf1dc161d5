import { AppError, conflict, notFound, UnavailableError, validationFailed } from '../errors.js';
import { newId, type AppId, type EventId, type OrgId } from '../domain/ids.js';
import { channelsMatch, compileStoredFilter, eventTypeMatches, type Envelope } from '../domain/filters.js';
import { guard, type Store } from '../storage/mongo.js';
import { applicationRepo } from '../storage/repos/applications.js';
import { DuplicateEventError } from '../storage/repos/events.js';
import { tenant } from '../storage/tenant.js';
import type { EventDoc, WebhookDoc } from '../storage/types.js';
import { eachLimit, type Temporal } from '../temporal.js';
import type { Logger } from '../log.js';
import { createFanout, type FanoutQueueLimits } from './fanout.js';
import { createWebhookIndex } from './webhook-index.js';
import { createTypeCache, deprecationNote, OPERATIONAL_EVENT_TYPES, requireLiveType, validateData, validationBudget, type ValidationBudget } from './event-types.js';
import { revisions } from '../storage/repos/webhooks.js';

export type PublishInput = {
  /** The application (id or uid) whose webhooks receive it; absent = organization-level webhooks only. */
  application?: string | null;
  type: string;
  data: unknown;
  id?: string;
  channels?: string[];
  timestamp?: string;
  raw?: boolean;
};

export type PublishResult = { id: EventId; type: string; timestamp: string; deliveries: number };


export function resultOf(event: EventDoc): PublishResult {
  return { id: event._id, type: event.type, timestamp: event.timestamp.toISOString(), deliveries: event.matched.length };
}

export type Publisher = ReturnType<typeof createPublisher>;

/**
 * Publishing = validate everything → persist the event (with the list of webhooks it matched, and an outbox
 * entry) → fan out (services/fanout.ts). Idempotent by key or client id: a second publish answers the first.
 */
/** What a process may want to observe about publishing (the API exports it as Prometheus metrics). */
export type PublishObserver = { fanoutWidth(webhooks: number): void };

/**
 * `queue`: the start queue's bounds (the API); false: fan-outs are done before a publish returns (the worker's
 * operational events, which have no sweep or drain of their own in that process).
 */
export function createPublisher(deps: { store: Store; temporal: Temporal; log: Logger; observe?: PublishObserver; queue?: FanoutQueueLimits | false }) {
  const { store, temporal, log } = deps;
  const webhookIndex = createWebhookIndex(store);
  const types = createTypeCache(store);
  type Revs = { webhooks: string; types: string };
  const fan = createFanout(deps);
  const { fanout, sweep } = fan;

  /**
   * The application an input names (id or uid), or null; if it names none of this organization's: 404 for a single
   * publish, 400 naming `events.<i>.application` for an element of a batch (`path` is then `events.<i>.`).
   */
  async function applicationOf(orgId: OrgId, input: PublishInput, path = ''): Promise<AppId | null> {
    const ref = input.application;
    if (!ref) return null;
    const repo = applicationRepo(store, orgId);
    const app = (ref.startsWith('app_') ? await repo.get(ref as AppId) : null) ?? (await repo.byUid(ref));
    if (!app) {
      if (!path) throw notFound('application');
      throw validationFailed(`${path}application names no application of this organization`, [{ path: `${path}application`, message: `no application "${ref}"` }]);
    }
    return app._id;
  }

  /**
   * Validates one input; returns its application and the deprecation note if its type is deprecated. `budget`: what
   * validating the request's events against their schemas may still cost (services/schema-pool.ts).
   */
  async function check(orgId: OrgId, input: PublishInput, path: string, revs: Revs, budget: ValidationBudget): Promise<{ appId: AppId | null; deprecation: string | null }> {
    const { doc, deprecated } = await types.require(orgId, input.type, `${path}type`, revs.types);
    await validateData(doc, input.data, `${path}data`, budget);
    const appId = await applicationOf(orgId, input, path);
    return { appId, deprecation: deprecated ? deprecationNote(doc) : null };
  }

  /**
   * The webhooks an event goes to: only those of its application (or, without one, only organization-level
   * webhooks) — no default ever sends one customer's event to another's endpoint — then by type, channels, filter.
   * Paused and disabled webhooks match too: their deliveries are recorded as held or skipped (services/fanout.ts).
   */
  async function matchWebhooks(orgId: OrgId, appId: AppId | null, envelope: Envelope, revs?: Revs): Promise<WebhookDoc[]> {
    const candidates = (await webhookIndex.all(orgId, revs?.webhooks)).filter((wh) => (wh.application_id ?? null) === appId);
    // Operational events (webhook.disabled names another customer's endpoint) go only to webhooks that list them.
    const operational = OPERATIONAL_EVENT_TYPES.has(envelope.type);
    return candidates.filter(
      (wh) =>
        (operational ? (wh.events ?? []).includes(envelope.type) : eventTypeMatches(wh.events, envelope.type)) &&
        channelsMatch(wh.channels, envelope.channels) &&
        (wh.filter === null || compileStoredFilter(wh.filter)(envelope)),
    );
  }

  async function idempotentExisting(orgId: OrgId, key: string): Promise<{ eventId: EventId; event: EventDoc | null } | null> {
    const t = tenant(store, orgId);
    const eventId = await t.events.idempotency.lookup(key);
    return eventId ? { eventId, event: await t.events.get(eventId) } : null;
  }

  /**
   * After the event is stored it is acknowledged: its delivery records are written and its workflow starts queued
   * in this process (services/fanout.ts); if anything fails after the event is stored, the sweep finishes the
   * fan-out from the outbox. Before anything is stored, a Temporal known to be down means 503.
   */
  async function fanoutOrDefer(event: EventDoc, known?: WebhookDoc[]): Promise<void> {
    try {
      await fan.fanoutQueued(event, known);
    } catch (err) {
      // The event and its outbox entry are stored: answering an error now would invite a duplicate publish.
      const level = err instanceof UnavailableError ? 'warn' : 'error';
      log[level]({ err, event: event._id }, 'fan-out deferred to the sweep');
    }
  }

  async function publish(orgId: OrgId, input: PublishInput, idempotencyKey?: string): Promise<{ result: PublishResult; deprecation: string | null }> {
    return guard(async () => {
      const t = tenant(store, orgId);
      // One read by _id gives both revisions the caches of types and webhooks are checked against.
      const revs = await revisions(store, orgId);
      const { appId, deprecation } = await check(orgId, input, '', revs, validationBudget());
      await temporal.requireUp();
      const key = idempotencyKey ? `key:${idempotencyKey}` : input.id ? `id:${input.id}` : null;
      let eventId = newId('evt');
      if (key) {
        const existing = await idempotentExisting(orgId, key);
        if (existing?.event) return { result: await finishExisting(existing.event), deprecation };
        eventId = existing?.eventId ?? (await t.events.idempotency.claim(key, eventId));
        const raced = await t.events.get(eventId);
        if (raced) return { result: await finishExisting(raced), deprecation };
      }
      let stored: { event: EventDoc; webhooks?: WebhookDoc[] };
      const unclaim = fan.claim(eventId);
      try {
        try {
          stored = await persist(orgId, eventId, input, appId, undefined, revs);
        } catch (err) {
          // A concurrent request with the same key is storing this very event: answer what it answers.
          if (!key || !(err instanceof AppError && err.code === 'conflict')) throw err;
          const event = await waitForEvent(orgId, eventId);
          if (!event) throw err;
          return { result: await finishExisting(event), deprecation };
        }
        await fanoutOrDefer(stored.event, stored.webhooks);
      } finally {
        unclaim();
      }
      deps.observe?.fanoutWidth(stored.event.matched.length);
      return { result: resultOf(stored.event), deprecation };
    });
  }

  /**
   * All-or-nothing validation: every event is validated before any is stored. Storing is safe to retry: an
   * element is recognised by its client `id`, or by the batch's idempotency key and its index, and is then
   * answered from what was stored, never stored twice.
   */
  async function publishBatch(orgId: OrgId, inputs: PublishInput[], idempotencyKey?: string): Promise<{ results: PublishResult[]; deprecations: string[] }> {
    return guard(async () => {
      const t = tenant(store, orgId);
      const deprecations: string[] = [];
      // Two elements with one client id would make one event answer for both: refused before anything is stored.
      const seen = new Map<string, number>();
      for (const [i, input] of inputs.entries()) {
        if (!input.id) continue;
        const first = seen.get(input.id);
        if (first !== undefined) throw validationFailed('two events of the batch have the same id', [{ path: `events.${i}.id`, message: `same id as events.${first}` }]);
        seen.set(input.id, i);
      }
      const apps: (AppId | null)[] = [];
      const revs = await revisions(store, orgId);
      const budget = validationBudget();
      for (const [i, input] of inputs.entries()) {
        const { appId, deprecation } = await check(orgId, input, `events.${i}.`, revs, budget);
        apps.push(appId);
        if (deprecation) deprecations.push(deprecation);
      }
      await temporal.requireUp();
      // Events of a batch are independent: store and fan them out several at a time, answering in input order.
      const results: PublishResult[] = new Array(inputs.length);
      await eachLimit([...inputs.keys()], 8, async (i) => {
        const input = inputs[i];
        const key = input.id ? `id:${input.id}` : idempotencyKey ? `key:${idempotencyKey}#${i}` : null;
        if (key) {
          const existing = await idempotentExisting(orgId, key);
          if (existing?.event) {
            results[i] = await finishExisting(existing.event);
            return;
          }
        }
        const eventId = key ? await t.events.idempotency.claim(key, newId('evt')) : newId('evt');
        // Only a claimed id can name an event stored before (a retry); a fresh one cannot.
        const stored = key ? await t.events.get(eventId) : null;
        if (stored) {
          results[i] = await finishExisting(stored);
          return;
        }
        const unclaim = fan.claim(eventId);
        try {
          const { event, webhooks } = await persist(orgId, eventId, input, apps[i], undefined, revs);
          results[i] = resultOf(event);
          deps.observe?.fanoutWidth(event.matched.length);
          await fanoutOrDefer(event, webhooks);
        } finally {
          unclaim();
        }
      });
      return { results, deprecations };
    });
  }

  async function waitForEvent(orgId: OrgId, eventId: EventId): Promise<EventDoc | null> {
    const t = tenant(store, orgId);
    for (let i = 0; i < 20; i++) {
      const event = await t.events.get(eventId);
      if (event) return event;
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  }

  /** A publish answered from what is stored: a fan-out a crash cut short is finished (unless this process is at it). */
  async function finishExisting(event: EventDoc): Promise<PublishResult> {
    if (!fan.isBusy(event._id) && (await tenant(store, event.org_id).events.outbox.pending(event._id))) await fanoutOrDefer(event);
    return resultOf(event);
  }

  async function persist(orgId: OrgId, eventId: EventId, input: PublishInput, appId: AppId | null, only?: WebhookDoc, revs?: Revs): Promise<{ event: EventDoc; webhooks: WebhookDoc[] }> {
    const timestamp = input.timestamp ? new Date(input.timestamp) : new Date();
    const envelope: Envelope = { id: eventId, type: input.type, timestamp: timestamp.toISOString(), channels: input.channels ?? null, data: input.data };
    const matched = only ? [only] : await matchWebhooks(orgId, appId, envelope, revs);
    const body = input.raw ? JSON.stringify(input.data) : JSON.stringify({ id: eventId, type: input.type, timestamp: envelope.timestamp, data: input.data });
    const event: EventDoc = {
      _id: eventId, org_id: orgId, application_id: appId, type: input.type, timestamp, channels: input.channels ?? null, body,
      raw: input.raw ?? false, matched: matched.map((w) => w._id), created_at: new Date(),
    };
    try {
      await tenant(store, orgId).events.insert(event, fan.instance);
    } catch (err) {
      if (err instanceof DuplicateEventError) throw conflict(`event ${eventId} already exists`);
      throw err;
    }
    return { event, webhooks: matched };
  }

  /** A test event for one webhook only (POST /v1/webhooks/{id}/test). Returns the delivery id. */
  async function publishTo(orgId: OrgId, wh: WebhookDoc, input: PublishInput) {
    return guard(async () => {
      const { doc } = await requireLiveType(store, orgId, input.type, 'event_type');
      await validateData(doc, input.data, 'data');
      // As for a publish: a Temporal known to be down is a 503 before anything is stored.
      await temporal.requireUp();
      const { event, webhooks } = await persist(orgId, newId('evt'), input, wh.application_id ?? null, wh);
      await fanout(event, webhooks);
      const d = await tenant(store, orgId).deliveries.ofEventAndWebhook(event._id, wh._id);
      return d!._id;
    });
  }

  /**
   * An operational event (alerts: webhook.failing, webhook.recovered, delivery.exhausted) to the organization-level
   * webhooks that list it; nothing is stored when none does. `id`: a client id, so that publishing the same alert
   * again answers the first publish instead.
   */
  async function publishOperational(orgId: OrgId, type: string, data: Record<string, unknown>, id?: string): Promise<PublishResult | null> {
    const now = new Date();
    const probe: Envelope = { id: 'evt_probe', type, timestamp: now.toISOString(), channels: null, data };
    if ((await matchWebhooks(orgId, null, probe)).length === 0) return null;
    return (await publish(orgId, { type, data, id })).result;
  }

  return { publish, publishBatch, publishTo, publishOperational, fanout, sweep, heartbeat: fan.beat, drain: fan.drain, queueState: fan.queueState };
}
