import { MongoClient, MongoError, MongoNetworkError, type MongoClientOptions, type Collection, type Db, type Document, type OptionalUnlessRequiredId, type UpdateFilter, type WithId } from 'mongodb';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createBatcher } from './batch.js';
import { UnavailableError } from '../errors.js';
import { createSealer, type Sealer } from '../domain/seal.js';
import type {
  AlertDoc, ApiKeyDoc, ApplicationDoc, ApplicationUidDoc, AttemptDoc, DeliveryDoc, EventDoc, EventTypeDoc, IdempotencyDoc, InstanceDoc, OrgDoc, OutboxDoc, WebhookUidDoc, RecoveryDoc, WebhookDoc, WebhookFailingDoc, WebhookHealthDoc, WebhookRevDoc,
} from './types.js';

export type Collections = ReturnType<typeof collections>;

function collections(raw: ReturnType<typeof rawCollections>, deadlines: StoreDeadlines) {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, bounded(retrying(v), deadlines)])) as typeof raw;
}

function rawCollections(db: Db) {
  return {
    orgs: db.collection<OrgDoc>('organizations'),
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    applications: db.collection<ApplicationDoc>('applications'),
    applicationUids: db.collection<ApplicationUidDoc>('application_uids'),
    eventTypes: db.collection<EventTypeDoc>('event_types'),
    webhooks: db.collection<WebhookDoc>('webhooks'),
    events: db.collection<EventDoc>('events'),
    deliveries: db.collection<DeliveryDoc>('deliveries'),
    attempts: db.collection<AttemptDoc>('attempts'),
    idempotency: db.collection<IdempotencyDoc>('idempotency'),
    outbox: db.collection<OutboxDoc>('fanout_outbox'),
    instances: db.collection<InstanceDoc>('api_instances'),
    webhookUids: db.collection<WebhookUidDoc>('webhook_uids'),
    webhookFailing: db.collection<WebhookFailingDoc>('webhook_failing'),
    webhookHealth: db.collection<WebhookHealthDoc>('webhook_health'),
    alerts: db.collection<AlertDoc>('alerts'),
    webhookRevs: db.collection<WebhookRevDoc>('webhook_revs'),
    recoveries: db.collection<RecoveryDoc>('recoveries'),
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
      return (...args: unknown[]) => retryBusy(() => value.apply(target, args));
    },
  });
}

/** One operation, again after a transient lock conflict (up to 8 times): it had no effect, so it is safe to repeat. */
export async function retryBusy<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransientBusy(err) || attempt >= 8) throw err;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
    }
  }
}

/**
 * Every store call has a deadline on the client (issue 23): a database that accepts the connection and then never
 * answers (FerretDB with its PostgreSQL pool exhausted: every request waits in `pgxpool.Acquire` for ever) must not
 * hold an API request, a worker's attempt or a shutdown for ever. The driver's own client-side operation timeout
 * (`timeoutMS`) is not used: mongodb 6.22 does not apply it to every path this code takes (cursors built step by
 * step, raw commands). Instead each call is raced against a timer; when the timer wins, the caller gets
 * `StoreDeadlineError` (a MongoError, counted as "database unavailable": the API answers 503, an attempt is
 * retried without being recorded) and an open cursor is closed. The operation itself may still reach the database
 * later; the pool's wait queue has the same deadline (`waitQueueTimeoutMS`), so a call that never got a connection
 * never runs late. Every write on these paths is safe to repeat (by `_id`, idempotency keys), so a retry after a
 * 503 is safe even when the first one did land.
 */
export type StoreDeadlines = {
  /** One read or write of one document (findOne, insertOne, updateOne…), and the hot path's batched commands. */
  opMs: number;
  /**
   * Calls that may read or write many documents — a find's cursor, countDocuments, aggregate, updateMany,
   * deleteMany, createIndex: lists, a webhook's deletion, recoveries, retention. On FerretDB any filter but `{_id}`
   * reads the whole collection, and with 10,000 deliveries under load that took over 5 s (noisy bench: a webhook's
   * deletion answered 503 with the single-document deadline).
   */
  bulkMs: number;
};

export const DEFAULT_STORE_DEADLINES: StoreDeadlines = { opMs: 5000, bulkMs: 300_000 };

/**
 * A longer deadline for the store calls made inside `fn` (and everything it starts): the worker's (config
 * WORKER_STORE_DEADLINE_MS, 30 s). An API request should get its 503 in seconds, but an attempt's record that gives
 * up while a busy store would still have written it costs more than the wait: the attempt is asked for again, and
 * may be sent again (seen at 5 s in the noisy bench's fail-fast variant: 1,555 records given up on FerretDB-SQLite
 * under 10,000 failing deliveries, each one more load on the same store).
 */
const deadlineContext = new AsyncLocalStorage<number>();
export function withStoreDeadline<T>(ms: number, fn: () => T): T {
  return deadlineContext.run(ms, fn);
}
const opDeadline = (d: StoreDeadlines) => deadlineContext.getStore() ?? d.opMs;
const bulkDeadline = (d: StoreDeadlines) => Math.max(d.bulkMs, deadlineContext.getStore() ?? 0);

export class StoreDeadlineError extends MongoError {
  constructor(what: string, ms: number) {
    super(`the database did not answer ${what} within ${ms} ms`);
  }
  override get name(): string {
    return 'StoreDeadlineError';
  }
}

/** Socket errors the driver (6.22) lets through unwrapped, e.g. EPIPE writing to a connection the store just closed. */
const SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTCONN', 'ECONNABORTED']);

/** A store call's error as "database unavailable" when it is a bare socket error (seen: a kill -9 of FerretDB → EPIPE → 500). */
function asStoreError(err: unknown): unknown {
  if (err instanceof MongoError || !(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && SOCKET_CODES.has(code) ? new MongoNetworkError(err.message, { cause: err }) : err;
}

/** The promise, or StoreDeadlineError after `ms` (then `onLate` runs, e.g. to close a cursor). */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string, onLate?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new StoreDeadlineError(what, ms));
      onLate?.();
    }, ms);
    p.then(resolve, (err: unknown) => reject(asStoreError(err))).finally(() => clearTimeout(timer));
  });
}

const BULK = new Set(['updateMany', 'deleteMany', 'countDocuments', 'estimatedDocumentCount', 'distinct', 'createIndex', 'createIndexes', 'dropIndex', 'bulkWrite']);
const CURSORS = new Set(['find', 'aggregate', 'listIndexes']);
/** A cursor's calls that reach the database; the others (sort, limit, project…) only shape it. */
const CURSOR_READS = new Set(['toArray', 'next', 'hasNext', 'tryNext', 'forEach']);
const CURSOR_SHAPES = new Set(['sort', 'limit', 'skip', 'project', 'batchSize', 'map', 'filter', 'hint', 'collation', 'comment', 'maxTimeMS', 'addCursorFlag']);

/** A collection whose every call that reaches the database has its deadline (see StoreDeadlines). */
function bounded<T extends object>(collection: T, deadlines: StoreDeadlines): T {
  const name = (collection as { collectionName?: string }).collectionName ?? '?';
  return new Proxy(collection, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      if (CURSORS.has(prop)) return (...args: unknown[]) => boundedCursor(value.apply(target, args) as object, bulkDeadline(deadlines), `${name}.${prop}`);
      if (prop.startsWith('watch') || prop === 'initializeOrderedBulkOp' || prop === 'initializeUnorderedBulkOp') return value.bind(target);
      const bulk = BULK.has(prop);
      return (...args: unknown[]) => {
        const out = value.apply(target, args) as unknown;
        return out instanceof Promise ? withDeadline(out, bulk ? bulkDeadline(deadlines) : opDeadline(deadlines), `${name}.${prop}`) : out;
      };
    },
  });
}

function boundedCursor<C extends object>(cursor: C, ms: number, what: string): C {
  const proxy: C = new Proxy(cursor, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === Symbol.asyncIterator) {
        // Each step of a `for await` has the deadline of one call.
        return () => {
          const it = (value as () => AsyncIterator<unknown>).call(target);
          return {
            next: () => withDeadline(it.next(), ms, what, () => void (target as { close?: () => Promise<void> }).close?.().catch(() => {})),
            return: (v?: unknown) => it.return?.(v) ?? Promise.resolve({ done: true, value: v }),
            [Symbol.asyncIterator]() {
              return this;
            },
          };
        };
      }
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      if (CURSOR_READS.has(prop)) {
        return (...args: unknown[]) =>
          withDeadline(value.apply(target, args) as Promise<unknown>, ms, what, () => void (target as { close?: () => Promise<void> }).close?.().catch(() => {}));
      }
      if (CURSOR_SHAPES.has(prop)) {
        return (...args: unknown[]) => {
          const out = value.apply(target, args);
          return out === target ? proxy : out;
        };
      }
      return value.bind(target);
    },
  });
  return proxy;
}

type Doc<K extends keyof Collections> = Collections[K] extends Collection<infer T> ? T : never;
export type Batched = {
  findById<K extends keyof Collections>(name: K, id: Doc<K>['_id']): Promise<WithId<Doc<K>> | null>;
  insert<K extends keyof Collections>(name: K, docs: OptionalUnlessRequiredId<Doc<K>>[]): Promise<void>;
  updateById<K extends keyof Collections>(name: K, id: Doc<K>['_id'], update: UpdateFilter<Doc<K>>): Promise<void>;
  deleteById<K extends keyof Collections>(name: K, id: Doc<K>['_id']): Promise<void>;
};

function batched(rawByName: ReturnType<typeof rawCollections>, deadlines: StoreDeadlines): Batched {
  const raw = rawByName as unknown as Record<string, Collection<Document>>;
  // Each command has the deadline (of the caller that sends it); callers queued behind a command that missed it
  // fail with it (storage/batch.ts).
  const b = createBatcher({
    isTransient: isTransientBusy, isDuplicate: isDuplicateKey, retry: retryBusy, isUnavailable: isMongoUnavailable,
    bound: (p, what) => withDeadline(p, opDeadline(deadlines), what),
  });
  return {
    findById: (name, id) => b.findById(raw[name], id as never) as never,
    insert: (name, docs) => b.insert(raw[name], docs as Document[]),
    updateById: (name, id, update) => b.updateById(raw[name], id as never, update as UpdateFilter<Document>),
    deleteById: (name, id) => b.deleteById(raw[name], id as never),
  };
}

export type Store = {
  client: MongoClient;
  db: Db;
  c: Collections;
  /**
   * The hot path's reads and writes by `_id`, sharing round trips with concurrent ones (storage/batch.ts): e.g.
   * `store.b.findById('webhooks', id)`, `store.b.insert('events', [doc])`, `store.b.updateById('attempts', id, {$set})`.
   */
  b: Batched;
  /** Seals and opens secrets at rest (repos/webhooks.ts); without keys it leaves them as they are. */
  sealer: Sealer;
  close(): Promise<void>;
  ping(): Promise<void>;
  /**
   * True on FerretDB (its `buildInfo` says so; asked once): a filter other than exactly `{_id}` is a scan of the
   * whole collection there, and an update conditioned on another field is a read and a write, not atomic (two
   * concurrent replaces conditioned on the same `updated_at` both matched in 50 of 100 tries, measured on 1.24).
   * Repositories that write with a condition read by `_id` and compare on it instead (repos/webhooks.ts health).
   */
  isFerret(): Promise<boolean>;
};

/** MongoDB commands this process sent, by command name (every store of the process together). */
export const commandCounts = new Map<string, number>();

/**
 * The driver's server monitor can hang for ever (mongodb 6.22; seen once in CI: after FerretDB was killed and
 * restarted, every operation of the worker failed server selection for 5 minutes while a fresh process on the same
 * FerretDB worked). When a pooled connection fails with an operation in flight, the topology asks the monitor for a
 * check on the next tick. If the monitor's own socket died in the same event-loop pass and has not emitted 'close'
 * yet, the check reuses it (sdam/monitor.js reuses any connection not yet marked closed), its write cannot go out,
 * and it waits for a 'drain' that a destroyed socket never emits (cmap/connection.js has no timeout there outside
 * CSOT); the monitor then never checks again and the server stays unknown. Reproduced deterministically by
 * destroying the monitor's socket and then a busy pool socket in one tick (test/integration/mongo-monitor.test.ts).
 * Two defences:
 * - a minimum interval between checks above the regular one: a check asked for between two regular ones waits for
 *   a timer (at least 0.2 s), and by then the dead socket's 'close' has been delivered (the reproduction hangs with
 *   the driver's defaults and recovers with these). A requested check runs at most 1.2 s after the last one, inside
 *   the 1.6 s server selection, so a pool error costs no 503 it did not cost before. Not a guarantee: a
 *   regular check half a second late (a blocked event loop) lets a requested one run at once;
 * - a watchdog: a heartbeat that has neither succeeded nor failed after HEARTBEAT_STUCK_MS (a healthy one ends
 *   within connectTimeoutMS + heartbeatFrequencyMS) means a stuck monitor; the client is closed and connected again.
 *   Operations in between fail as "database unavailable" (the API answers 503, attempts are retried).
 */
const HEARTBEAT_MS = 1000;
const MIN_HEARTBEAT_MS = 1200;
const HEARTBEAT_STUCK_MS = 30_000;

export type StoreOptions = {
  /** Where the watchdog says that it reconnected. */
  log?: { warn(obj: object, msg: string): void };
  /** Tests: a shorter watchdog, other driver options. */
  heartbeatStuckMs?: number;
  driver?: MongoClientOptions;
  /** Deadlines of store calls (DEFAULT_STORE_DEADLINES; config: STORE_DEADLINE_MS, STORE_BULK_DEADLINE_MS). */
  deadlines?: Partial<StoreDeadlines>;
  /** The longest deadline callers set with withStoreDeadline in this process (the pool's wait queue waits as long). */
  longestOpMs?: number;
};

/**
 * Reconnects a client whose server monitor stopped answering (see above). A reconnect that fails (the database
 * still down) leaves the client on a closed topology that no monitor will ever revive: the watchdog connects again
 * on its next rounds until one works. Returns the stop, which waits for a reconnect in progress.
 */
function watchHeartbeats(client: MongoClient, stuckMs: number, log: StoreOptions['log']): () => Promise<void> {
  const started = new Map<string, number>();
  client.on('serverHeartbeatStarted', (e) => started.set(e.connectionId, Date.now()));
  client.on('serverHeartbeatSucceeded', (e) => started.delete(e.connectionId));
  client.on('serverHeartbeatFailed', (e) => started.delete(e.connectionId));
  // A server taken out of the topology (a replica set's reconfiguration, other host names than the seed list's):
  // its monitor's last check ends without an event reaching the client.
  client.on('serverClosed', (e) => started.delete(e.address));
  client.on('topologyClosed', () => started.clear());
  let reconnecting: Promise<void> | null = null;
  let needsConnect = false;
  let stopped = false;
  const reconnect = (closeFirst: boolean) => {
    reconnecting = (closeFirst ? client.close() : Promise.resolve())
      .then(() => (stopped ? undefined : client.connect()))
      .then(
        () => {
          needsConnect = false;
        },
        (err: unknown) => {
          needsConnect = !stopped;
          log?.warn({ err: (err as Error).message }, 'MongoDB client not reconnected yet; the watchdog tries again');
        },
      )
      .finally(() => {
        reconnecting = null;
      });
  };
  const timer = setInterval(() => {
    if (reconnecting || stopped) return;
    if (needsConnect) return reconnect(false);
    const now = Date.now();
    const stuck = [...started].find(([, at]) => now - at > stuckMs);
    if (!stuck) return;
    log?.warn({ server: stuck[0], waitedMs: now - stuck[1] }, 'MongoDB server monitor stuck; reconnecting the client');
    started.clear();
    reconnect(true);
  }, Math.min(5000, Math.max(100, stuckMs / 4)));
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await reconnecting;
  };
}

/**
 * Connects lazily: the driver reconnects by itself, so a MongoDB restart heals without restarting the process.
 * Short server selection keeps a request from hanging when the database is gone (it answers 503 instead).
 */
export async function openStore(url: string, dbName: string, sealer: Sealer = createSealer([]), opts: StoreOptions = {}): Promise<Store> {
  const deadlines = { ...DEFAULT_STORE_DEADLINES, ...opts.deadlines };
  const client = new MongoClient(url, {
    // A call that waits for a pooled connection gives up with its deadline, and so never runs late.
    // (the longest deadline any caller of this process may have: the worker's, when it runs here)
    waitQueueTimeoutMS: Math.max(deadlines.opMs, opts.longestOpMs ?? 0),
    // A store that is gone (refused, killed) is answered 503 within 2 s (issue 23), a blip is not (see above).
    serverSelectionTimeoutMS: 1600,
    connectTimeoutMS: 2500,
    heartbeatFrequencyMS: HEARTBEAT_MS,
    minHeartbeatFrequencyMS: MIN_HEARTBEAT_MS,
    // The connection string may set it (the cluster profile does: docs/deploy.md, "Store connections").
    ...(/[?&]maxPoolSize=/i.test(url) ? {} : { maxPoolSize: 50 }),
    appName: 'hookrelay',
    monitorCommands: true,
    ...opts.driver,
  } as MongoClientOptions);
  // Round trips by command, for the process's metrics (hookrelay_mongodb_commands_total) and the bench.
  client.on('commandStarted', (e) => commandCounts.set(e.commandName, (commandCounts.get(e.commandName) ?? 0) + 1));
  const unwatch = watchHeartbeats(client, opts.heartbeatStuckMs ?? HEARTBEAT_STUCK_MS, opts.log);
  const db = client.db(dbName);
  // One set of collection objects: the retrying ones (store.c) and the batched hot path (store.b) wrap the same.
  const raw = rawCollections(db);
  let ferret: Promise<boolean> | null = null;
  return {
    client,
    db,
    c: collections(raw, deadlines),
    b: batched(raw, deadlines),
    sealer,
    close: async () => {
      await unwatch();
      await client.close();
    },
    ping: async () => {
      await withDeadline(db.command({ ping: 1 }), deadlines.opMs, 'ping');
    },
    isFerret: () =>
      (ferret ??= withDeadline(db.admin().command({ buildInfo: 1 }), deadlines.opMs, 'buildInfo')
        .then((info) => typeof info.ferretdbVersion === 'string')
        .catch((err: unknown) => {
          ferret = null; // asked again next time
          throw err;
        })),
  };
}

/**
 * Indexes for MongoDB. FerretDB's SQLite backend only answers a filter of exactly {_id: "…"} without a scan, so
 * every hot path (auth aside, which is cached) reads and writes by _id; these indexes serve lists and MongoDB.
 * Only missing ones are created, one at a time: a restart (all of them exist) sends no createIndexes at all.
 * FerretDB's createIndexes can wait forever on its metadata lock while other processes write (seen in chaos-all:
 * an API restarted under load never got past it), and an index that exists needs nothing.
 */
export async function ensureIndexes(store: Store): Promise<void> {
  const { c } = store;
  const wanted: [Collection<any>, Record<string, 1 | -1>, { unique?: boolean }?][] = [
    [c.apiKeys, { hash: 1 }, { unique: true }],
    [c.eventTypes, { org_id: 1, name: 1 }, { unique: true }],
    [c.webhooks, { org_id: 1, created_at: -1 }],
    [c.webhooks, { org_id: 1, uid: 1 }],
    [c.events, { org_id: 1, created_at: -1 }],
    [c.deliveries, { webhook_id: 1, event_id: 1 }, { unique: true }],
    [c.deliveries, { webhook_id: 1, created_at: -1 }],
    [c.deliveries, { event_id: 1 }],
    [c.deliveries, { webhook_id: 1, status: 1 }],
    [c.attempts, { delivery_id: 1, attempt: 1 }, { unique: true }],
    [c.attempts, { webhook_id: 1, created_at: -1 }],
    [c.applications, { org_id: 1, created_at: -1 }],
    [c.webhooks, { org_id: 1, application_id: 1 }],
    [c.events, { org_id: 1, application_id: 1, created_at: -1 }],
    [c.deliveries, { org_id: 1, application_id: 1, created_at: -1 }],
    [c.deliveries, { org_id: 1, status: 1, created_at: 1 }],
  ];
  const existing = new Map<string, Set<string>>();
  for (const coll of new Set(wanted.map(([coll]) => coll))) {
    const keys = await coll.listIndexes().toArray().catch((err: unknown) => {
      // A collection that does not exist yet has no indexes.
      if (err instanceof MongoError && (err.code === 26 || (err as { codeName?: string }).codeName === 'NamespaceNotFound')) return [];
      throw err;
    });
    existing.set(coll.collectionName, new Set(keys.map((ix: { key: Record<string, unknown> }) => JSON.stringify(ix.key))));
  }
  for (const [coll, key, opts] of wanted) {
    if (existing.get(coll.collectionName)!.has(JSON.stringify(key))) continue;
    await coll.createIndex(key, opts ?? {});
  }
}

const UNAVAILABLE = new Set([
  'MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoNotConnectedError',
  'MongoTopologyClosedError', 'MongoPoolClearedError', 'MongoWaitQueueTimeoutError', 'StoreDeadlineError',
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
