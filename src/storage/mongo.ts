import { MongoClient, MongoError, type Db } from 'mongodb';
import { UnavailableError } from '../errors.js';
import type {
  ApiKeyDoc, AttemptDoc, DeliveryDoc, EventDoc, EventTypeDoc, IdempotencyDoc, OrgDoc, RecoveryDoc, WebhookDoc,
} from './types.js';

export type Collections = ReturnType<typeof collections>;

function collections(db: Db) {
  return {
    orgs: db.collection<OrgDoc>('organizations'),
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    eventTypes: db.collection<EventTypeDoc>('event_types'),
    webhooks: db.collection<WebhookDoc>('webhooks'),
    events: db.collection<EventDoc>('events'),
    deliveries: db.collection<DeliveryDoc>('deliveries'),
    attempts: db.collection<AttemptDoc>('attempts'),
    idempotency: db.collection<IdempotencyDoc>('idempotency'),
    recoveries: db.collection<RecoveryDoc>('recoveries'),
  };
}

export type Store = { client: MongoClient; db: Db; c: Collections; close(): Promise<void>; ping(): Promise<void> };

/**
 * Connects lazily: the driver reconnects by itself, so a MongoDB restart heals without restarting the process.
 * Short server selection keeps a request from hanging when the database is gone (it answers 503 instead).
 */
export async function openStore(url: string, dbName: string): Promise<Store> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 2500,
    connectTimeoutMS: 2500,
    maxPoolSize: 50,
    appName: 'hookrelay',
  });
  const db = client.db(dbName);
  return {
    client,
    db,
    c: collections(db),
    close: () => client.close(),
    ping: async () => {
      await db.command({ ping: 1 });
    },
  };
}

export async function ensureIndexes(store: Store): Promise<void> {
  const { c } = store;
  await Promise.all([
    c.apiKeys.createIndex({ hash: 1 }, { unique: true }),
    c.eventTypes.createIndex({ org_id: 1, name: 1 }, { unique: true }),
    c.webhooks.createIndex({ org_id: 1, created_at: -1 }),
    c.webhooks.createIndex({ org_id: 1, uid: 1 }),
    c.events.createIndex({ org_id: 1, created_at: -1 }),
    c.events.createIndex({ fanout_done: 1, created_at: 1 }),
    c.deliveries.createIndex({ webhook_id: 1, event_id: 1 }, { unique: true }),
    c.deliveries.createIndex({ webhook_id: 1, created_at: -1 }),
    c.deliveries.createIndex({ event_id: 1 }),
    c.deliveries.createIndex({ webhook_id: 1, status: 1 }),
    c.attempts.createIndex({ delivery_id: 1, attempt: 1 }, { unique: true }),
    c.attempts.createIndex({ webhook_id: 1, created_at: -1 }),
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
    if (isMongoUnavailable(err)) throw new UnavailableError('mongodb', err);
    throw err;
  }
}
