import type { AppId, EventId, OrgId } from '../../domain/ids.js';
import { isDuplicateKey, type Store } from '../mongo.js';
import { createdBetween, findPage, type PageQuery } from '../page.js';
import type { EventDoc, OutboxDoc } from '../types.js';

/** An idempotency key (or client id) is honoured this long. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

export class DuplicateEventError extends Error {
  constructor(readonly eventId: EventId) {
    super(`event ${eventId} already exists`);
  }
}

/**
 * The events of one organization, with their idempotency keys and the fan-out outbox. Events never change after
 * they are stored. Reads by id use `{_id}` alone and check the organization here.
 */
export function eventRepo(store: Store, orgId: OrgId) {
  const { c } = store;
  const keyId = (key: string) => `${orgId}:${key}`;

  return {
    async get(id: EventId): Promise<EventDoc | null> {
      const e = await store.b.findById('events', id);
      return e && e.org_id === orgId ? e : null;
    },
    async byIds(ids: EventId[]): Promise<EventDoc[]> {
      return (await c.events.find({ _id: { $in: ids } }).toArray()).filter((e) => e.org_id === orgId);
    },
    /** `application`: that application's events; null: organization-level ones; absent: all. */
    async page(f: { type?: string; since?: Date | null; until?: Date | null; application?: AppId | null }, q: PageQuery) {
      const filter: Record<string, unknown> = { org_id: orgId, ...createdBetween(f.since, f.until) };
      if (f.type) filter.type = f.type;
      if (f.application !== undefined) filter.application_id = f.application;
      return findPage(c.events, filter, { created_at: -1 }, q);
    },
    /**
     * Stores an event. With matched webhooks, its outbox entry goes first: once the event exists, something is sure
     * to finish its fan-out. Throws DuplicateEventError if the id exists.
     */
    async insert(event: EventDoc, owner?: string): Promise<void> {
      if (event.org_id !== orgId) throw new Error('event of another organization');
      if (event.matched.length > 0) {
        try {
          await store.b.insert('outbox', [{ _id: event._id, org_id: orgId, created_at: event.created_at, ...(owner ? { owner } : {}) }]);
        } catch (err) {
          // An entry for this very event id exists: an earlier request with the same idempotency key died between
          // the two writes (ids come from the key's claim, so the id is the same logical event). Its entry serves.
          if (!isDuplicateKey(err)) throw err;
        }
      }
      try {
        await store.b.insert('events', [event]);
      } catch (err) {
        if (isDuplicateKey(err)) throw new DuplicateEventError(event._id);
        throw err;
      }
    },

    /** Replaces the body of an event whose payload is erased (its delivery records stay). */
    async erase(id: EventId, body: string): Promise<void> {
      await c.events.updateOne({ _id: id }, { $set: { body, erased_at: new Date() } });
    },

    idempotency: {
      /** The event id a key names, if used within the window. */
      async lookup(key: string): Promise<EventId | null> {
        const rec = await c.idempotency.findOne({ _id: keyId(key) });
        return rec && Date.now() - rec.created_at.getTime() <= IDEMPOTENCY_WINDOW_MS ? rec.event_id : null;
      },
      /** Claims the key for `eventId`; returns the event id that owns it (ours, or a racing request's). */
      async claim(key: string, eventId: EventId): Promise<EventId> {
        const _id = keyId(key);
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
      },
    },

    outbox: {
      async pending(id: EventId): Promise<boolean> {
        return (await c.outbox.findOne({ _id: id })) !== null;
      },
      async done(id: EventId): Promise<void> {
        await c.outbox.deleteOne({ _id: id });
      },
      /**
       * Removes the entry with others in one command, within ~100 ms (the happy path's cleanup: one round trip per
       * batch of fan-outs instead of one per event). What a crash leaves behind, the sweep finishes and removes.
       */
      doneSoon(id: EventId): Promise<void> {
        return outboxCleaner(store).add(id);
      },
    },
  };
}

export type EventRepo = ReturnType<typeof eventRepo>;

const cleaners = new WeakMap<Store, { add(id: EventId): Promise<void> }>();

/** One batch of outbox removals per store, sent at most every 100 ms (or at 200 ids). */
function outboxCleaner(store: Store) {
  let cleaner = cleaners.get(store);
  if (cleaner) return cleaner;
  let ids: EventId[] = [];
  let waiters: { ok(): void; fail(err: unknown): void }[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    timer = null;
    const [batch, done] = [ids, waiters];
    ids = [];
    waiters = [];
    // One statement per id (storage/batch.ts: by `_id` alone, FerretDB needs no scan), 16 to a command.
    batch.forEach((id, i) => store.b.deleteById('outbox', id).then(done[i].ok, done[i].fail));
  };
  cleaner = {
    add(id: EventId) {
      return new Promise<void>((ok, fail) => {
        ids.push(id);
        waiters.push({ ok, fail });
        if (ids.length >= 200) {
          if (timer) clearTimeout(timer);
          flush();
        } else timer ??= setTimeout(flush, 100);
      });
    },
  };
  cleaners.set(store, cleaner);
  return cleaner;
}

/**
 * Fan-outs not yet finished, of every organization (the sweep's work list). The outbox holds only fan-outs in
 * progress, so this reads little whatever the number of events.
 */
export async function unfinishedFanouts(store: Store, limit = 1000, opts: { owner?: string; notOwner?: string; before?: Date } = {}): Promise<OutboxDoc[]> {
  const filter: Record<string, unknown> = {};
  if (opts.owner) filter.owner = opts.owner;
  if (opts.notOwner) filter.owner = { $ne: opts.notOwner };
  if (opts.before) filter.created_at = { $lte: opts.before };
  return store.c.outbox.find(filter).sort({ created_at: 1 }).limit(limit).toArray();
}

/** An API process says it is alive (its queued fan-outs are its own); records silent for an hour are removed. */
export async function heartbeat(store: Store, instance: string): Promise<void> {
  const now = new Date();
  await store.c.instances.updateOne({ _id: instance }, { $set: { seen_at: now } }, { upsert: true });
  if (Math.random() < 0.01) await store.c.instances.deleteMany({ seen_at: { $lt: new Date(now.getTime() - 3600_000) } });
}

/** The API processes heard from within `withinMs`. */
export async function liveInstances(store: Store, withinMs: number): Promise<Set<string>> {
  const docs = await store.c.instances.find({}).toArray();
  return new Set(docs.filter((d) => d.seen_at.getTime() > Date.now() - withinMs).map((d) => d._id));
}
