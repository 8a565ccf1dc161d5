import { MongoClient, MongoError, type Db } from 'mongodb';
import { UnavailableError } from '../errors.js';
import { createSealer, type Sealer } from '../domain/seal.js';
import type {
  AlertDoc, ApiKeyDoc, ApplicationDoc, ApplicationUidDoc, AttemptDoc, DeliveryDoc, EventDoc, EventTypeDoc, IdempotencyDoc, OrgDoc, OutboxDoc, WebhookUidDoc, RecoveryDoc, WebhookDoc, WebhookFailingDoc, WebhookHealthDoc, WebhookRevDoc,
} from './types.js';

export type Collections = ReturnType<typeof collections>;

function collections(db: Db) {
  return {
    orgs: retrying(db.collection<OrgDoc>('organizations')),
    apiKeys: retrying(db.collection<ApiKeyDoc>('api_keys')),
    applications: retrying(db.collection<ApplicationDoc>('applications')),
    applicationUids: retrying(db.collection<ApplicationUidDoc>('application_uids')),
    eventTypes: retrying(db.collection<EventTypeDoc>('event_types')),
    webhooks: retrying(db.collection<WebhookDoc>('webhooks')),
    events: retrying(db.collection<EventDoc>('events')),
    deliveries: retrying(db.collection<DeliveryDoc>('deliveries')),
    attempts: retrying(db.collection<AttemptDoc>('attempts')),
    idempotency: retrying(db.collection<IdempotencyDoc>('idempotency')),
    outbox: retrying(db.collection<OutboxDoc>('fanout_outbox')),
    webhookUids: retrying(db.collection<WebhookUidDoc>('webhook_uids')),
    webhookFailing: retrying(db.collection<WebhookFailingDoc>('webhook_failing')),
    webhookHealth: retrying(db.collection<WebhookHealthDoc>('webhook_health')),
    alerts: retrying(db.collection<AlertDoc>('alerts')),
    webhookRevs: retrying(db.collection<WebhookRevDoc>('webhook_revs')),
    recoveries: retrying(db.collection<RecoveryDoc>('recoveries')),
  };
}

const RETRIED = new Set([
  'insertOne', 'insertMany', 'updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany', 'findOne',
  'countDocuments', 'createIndex', 'findOneAndUpdate',
]);

/** FerretDB's SQLite backend answers SQLITE_BUSY when two writers collide; the operation did not happen. */
export function isTransientBusy(err: unknown): boolean {
  return err instanceof MongoError && /SQLITE_BUSY|database is locked/.test(err.message);
}

/**
 * Retries single operations that failed with a transient lock conflict. Each retried call is one operation
 * that had no effect, so retrying it is safe; multi-step logic above it never re-runs.
 */
function retrying<T extends object>(collection: T): T {
  return new Proxy(collection, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !RETRIED.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await value.apply(target, args);
          } catch (err) {
            if (!isTransientBusy(err) || attempt >= 8) throw err;
            await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
          }
        }
      };
    },
  });
}

export type Store = {
  client: MongoClient;
  db: Db;
  c: Collections;
  /** Seals and opens secrets at rest (repos/webhooks.ts); without keys it leaves them as they are. */
  sealer: Sealer;
  close(): Promise<void>;
  ping(): Promise<void>;
};

/** MongoDB commands this process sent, by command name (every store of the process together). */
export const commandCounts = new Map<string, number>();

/**
 * Connects lazily: the driver reconnects by itself, so a MongoDB restart heals without restarting the process.
 * Short server selection keeps a request from hanging when the database is gone (it answers 503 instead).
 */
export async function openStore(url: string, dbName: string, sealer: Sealer = createSealer([])): Promise<Store> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 2500,
    connectTimeoutMS: 2500,
    maxPoolSize: 50,
    appName: 'hookrelay',
    monitorCommands: true,
  });
  // Round trips by command, for the process's metrics (hookrelay_mongodb_commands_total) and the bench.
  client.on('commandStarted', (e) => commandCounts.set(e.commandName, (commandCounts.get(e.commandName) ?? 0) + 1));
  const db = client.db(dbName);
  return {
    client,
    db,
    c: collections(db),
    sealer,
    close: () => client.close(),
    ping: async () => {
      await db.command({ ping: 1 });
    },
  };
}

/**
 * Indexes for MongoDB. FerretDB's SQLite backend only answers a filter of exactly {_id: "…"} without a scan, so
 * every hot path (auth aside, which is cached) reads and writes by _id; these indexes serve lists and MongoDB.
 */
export async function ensureIndexes(store: Store): Promise<void> {
  const { c } = store;
  await Promise.all([
    c.apiKeys.createIndex({ hash: 1 }, { unique: true }),
    c.eventTypes.createIndex({ org_id: 1, name: 1 }, { unique: true }),
    c.webhooks.createIndex({ org_id: 1, created_at: -1 }),
    c.webhooks.createIndex({ org_id: 1, uid: 1 }),
    c.events.createIndex({ org_id: 1, created_at: -1 }),
    c.deliveries.createIndex({ webhook_id: 1, event_id: 1 }, { unique: true }),
    c.deliveries.createIndex({ webhook_id: 1, created_at: -1 }),
    c.deliveries.createIndex({ event_id: 1 }),
    c.deliveries.createIndex({ webhook_id: 1, status: 1 }),
    c.attempts.createIndex({ delivery_id: 1, attempt: 1 }, { unique: true }),
    c.attempts.createIndex({ webhook_id: 1, created_at: -1 }),
    c.applications.createIndex({ org_id: 1, created_at: -1 }),
    c.webhooks.createIndex({ org_id: 1, application_id: 1 }),
    c.events.createIndex({ org_id: 1, application_id: 1, created_at: -1 }),
    c.deliveries.createIndex({ org_id: 1, application_id: 1, created_at: -1 }),
    c.deliveries.createIndex({ org_id: 1, status: 1, created_at: 1 }),
  ]);
}

const UNAVAILABLE = new Set([
  'MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoNotConnectedError',
  'MongoTopologyClosedError', 'MongoPoolClearedError',
]);

export function isMongoUnavailable(err: unknown): boolean {
  return err instanceof MongoError && UNAVAILABLE.has(err.name);
}

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoError && (err.code === 11000 || err.code === 11001);
}

/** Runs a database call, turning "the database is gone" into the API's 503. */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isMongoUnavailable(err) || isTransientBusy(err)) throw new UnavailableError('mongodb', err);
    throw err;
  }
}
