import type { OrgId } from '../../domain/ids.js';
import { isDuplicateKey, type Store } from '../mongo.js';
import { findPage, type PageQuery } from '../page.js';
import type { EventTypeDoc } from '../types.js';
import { touchRevision } from './webhooks.js';

export class DuplicateEventTypeError extends Error {}

/** The event type catalog of one organization. Types are keyed `<org>:<name>`, so every lookup is by _id. */
export function eventTypeRepo(store: Store, orgId: OrgId) {
  const { c } = store;
  const idOf = (name: string) => `${orgId}:${name}`;
  return {
    async get(name: string): Promise<EventTypeDoc | null> {
      return c.eventTypes.findOne({ _id: idOf(name) });
    },
    async page(q: PageQuery, includeArchived: boolean) {
      return findPage(c.eventTypes, { org_id: orgId, ...(includeArchived ? {} : { archived: false }) }, { name: 1 }, q);
    },
    async insert(doc: Omit<EventTypeDoc, '_id' | 'org_id'>): Promise<EventTypeDoc> {
      const full: EventTypeDoc = { ...doc, _id: idOf(doc.name), org_id: orgId };
      try {
        await c.eventTypes.insertOne(full);
      } catch (err) {
        if (isDuplicateKey(err)) throw new DuplicateEventTypeError(doc.name);
        throw err;
      }
      await touchRevision(store, orgId, 'types_rev');
      return full;
    },
    /** Creates the type unless it exists (built-in types of every organization). */
    async ensure(doc: Omit<EventTypeDoc, '_id' | 'org_id'>): Promise<void> {
      const r = await c.eventTypes.updateOne({ _id: idOf(doc.name) }, { $setOnInsert: { ...doc, _id: idOf(doc.name), org_id: orgId } }, { upsert: true });
      if (r.upsertedCount > 0) await touchRevision(store, orgId, 'types_rev');
    },
    async set(name: string, fields: Partial<Omit<EventTypeDoc, '_id' | 'org_id' | 'name'>>): Promise<void> {
      await c.eventTypes.updateOne({ _id: idOf(name) }, { $set: { ...fields, updated_at: new Date() } });
      await touchRevision(store, orgId, 'types_rev');
    },
  };
}

export type EventTypeRepo = ReturnType<typeof eventTypeRepo>;
