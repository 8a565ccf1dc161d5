import { MongoServerError, type Collection, type Document, type UpdateFilter } from 'mongodb';

/**
 * Hot-path reads and writes by `_id` that share round trips when they come at once (issue 14: MongoDB commands per
 * delivery). One rule for all three: the first caller sends at once (no added latency when idle); callers that
 * arrive while a command of the same kind is in flight wait for it and then go together in the next one. A read
 * is therefore never answered from a command sent before its caller asked (no stale answer), and each write is
 * acknowledged only when the command that carried it was.
 *
 * - `findById`: concurrent reads of the same `_id` share one `find` (each caller gets its own copy).
 * - `insert`: documents of concurrent callers go in one `insert` command (ordered: false); each caller gets the
 *   errors of its own documents only (a duplicate key for one does not fail the others).
 * - `updateById`: concurrent updates of documents by `_id` go in one `update` command, each a statement of its own.
 * - `deleteById`: concurrent deletes by `_id` go in one `delete` command, each a statement of its own. Not one
 *   `{_id: {$in: […]}}`: FerretDB's SQLite backend answers only a filter of exactly `{_id: "…"}` without a scan, and
 *   the outbox's cleanup through `$in` scanned the whole outbox every 100 ms (71 % of FerretDB's CPU under a
 *   burst of batch publishes, issue 14).
 *
 * Several statements go as one raw `insert` / `update` command (ordered: false), whose answer lists the statements
 * that failed: those callers get their statement's error, the others succeed. A statement that hit a transient
 * SQLite lock conflict (FerretDB) runs again alone through `retry`; a command that failed as a whole with one runs
 * again statement by statement (it had no effect); any other error of the whole command — the database gone, say —
 * reaches every caller as the driver raised it, so the API still answers it 503.
 *
 * A command still unanswered after STUCK_MS stops holding its queue: its callers wait on, later callers go ahead.
 */
export type Batcher = ReturnType<typeof createBatcher>;

type Waiter<T> = { ok(v: T): void; fail(err: unknown): void };

/** Commands sent and operations they carried, per kind (for tests and the bench). */
export const batchCounts = { commands: 0, operations: 0 };

const STUCK_MS = 20_000;

/**
 * FerretDB (SQLite) holds one pooled connection per statement of an update command until the command ends: two
 * commands of 60 and 40 statements took all 100 of its connections and then waited on each other for ever (seen
 * under burst: every attempt of the worker stuck, the whole stack idle). A few statements per command keep the
 * shared round trips and stay far from the pool's size. Shared deletes are held to the same number.
 */
export const MAX_UPDATES_PER_COMMAND = 16;

/** Settles every waiter, each on its own: a waiter whose value cannot be made gets the error instead. */
function settle<T>(waiters: Waiter<T>[], value: (i: number) => T) {
  for (const [i, w] of waiters.entries()) {
    try {
      w.ok(value(i));
    } catch (err) {
      w.fail(err);
    }
  }
}

export function createBatcher(opts: {
  isTransient(err: unknown): boolean;
  isDuplicate(err: unknown): boolean;
  retry<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * "The database is unreachable": callers queued behind a command that failed so get the same error at once rather
   * than a command of their own that would wait as long again (seen: a publish answered 503 after two server
   * selection timeouts, 3.2 s, when FerretDB was killed).
   */
  isUnavailable?(err: unknown): boolean;
  /**
   * The deadline of one command (storage/mongo.ts): a command the database does not answer in time fails its
   * callers, and — being "unavailable" — those queued behind it. A caller's wait in the queue has no deadline of
   * its own: while commands are answered, slowly or not, the queue moves (a per-caller deadline gave up on 1,262
   * attempt records in the noisy bench that a busy FerretDB would have written, each asked for again).
   */
  bound?<T>(p: Promise<T>, what: string): Promise<T>;
  stuckMs?: number;
}) {
  const unavailable = (err: unknown) => opts.isUnavailable?.(err) ?? false;
  const bound = <T>(p: Promise<T>, what: string) => (opts.bound ? opts.bound(p, what) : p);
  const stuckMs = opts.stuckMs ?? STUCK_MS;
  const readers = new WeakMap<Collection<Document>, ReturnType<typeof reader>>();
  const inserters = new WeakMap<Collection<Document>, ReturnType<typeof inserter>>();
  const updaters = new WeakMap<Collection<Document>, ReturnType<typeof updater>>();
  const deleters = new WeakMap<Collection<Document>, ReturnType<typeof deleter>>();

  function reader(coll: Collection<Document>) {
    const queued = new Map<unknown, Waiter<Document | null>[]>();
    /** The read in flight per id (a token: a stuck one is let go, and its late end must not release a newer one). */
    const busy = new Map<unknown, object>();
    const send = (id: unknown) => {
      const waiters = queued.get(id)!;
      queued.delete(id);
      const token = {};
      busy.set(id, token);
      batchCounts.commands++;
      batchCounts.operations += waiters.length;
      const release = () => {
        if (busy.get(id) !== token) return;
        busy.delete(id);
        if (queued.has(id)) send(id);
      };
      const stuck = setTimeout(release, stuckMs);
      stuck.unref?.();
      bound(opts.retry(() => coll.findOne({ _id: id } as Document)), `${coll.collectionName}.findById`)
        .then(
          (doc) => settle(waiters, (i) => (doc === null || i === 0 ? doc : structuredClone(doc))),
          (err) => {
            waiters.forEach((w) => w.fail(err));
            const behind = unavailable(err) ? queued.get(id) : undefined;
            if (behind) {
              queued.delete(id);
              behind.forEach((w) => w.fail(err));
            }
          },
        )
        .finally(() => {
          clearTimeout(stuck);
          release();
        });
    };
    return (id: unknown) =>
      new Promise<Document | null>((ok, fail) => {
        const q = queued.get(id);
        if (q) return void q.push({ ok, fail });
        queued.set(id, [{ ok, fail }]);
        if (!busy.has(id)) send(id);
      });
  }

  /** One queue per collection: what arrives while a command is in flight goes in the next one (at most `max`). */
  function queue<Op>(what: string, run: (ops: Op[]) => Promise<(unknown | null)[]>, max = Infinity) {
    let pending: { op: Op; w: Waiter<void> }[] = [];
    let busy: object | null = null;
    const send = () => {
      const batch = pending.splice(0, max);
      const token = {};
      busy = token;
      batchCounts.commands++;
      batchCounts.operations += batch.length;
      const release = () => {
        if (busy !== token) return;
        busy = null;
        if (pending.length > 0) send();
      };
      const stuck = setTimeout(release, stuckMs);
      stuck.unref?.();
      void bound(Promise.resolve().then(() => run(batch.map((b) => b.op))), what)
        .catch((err) => batch.map(() => err ?? new Error('batched command failed')))
        .then((errors) => {
          batch.forEach((b, i) => (errors[i] ? b.w.fail(errors[i]) : b.w.ok()));
          // The whole command failed because the database is unreachable: those queued behind it fail alike.
          const err = errors[0];
          if (err && unavailable(err) && errors.every((e) => e === err) && busy === token) {
            const behind = pending;
            pending = [];
            behind.forEach((b) => b.w.fail(err));
          }
        })
        .finally(() => {
          clearTimeout(stuck);
          release();
        });
    };
    return (op: Op) =>
      new Promise<void>((ok, fail) => {
        pending.push({ op, w: { ok, fail } });
        if (!busy) send();
      });
  }

  /**
   * Runs a raw write command of n statements (ordered: false) and maps the statements it reports failed to their
   * indexes. A statement that hit a lock conflict runs again alone (it had no effect); so does every statement when
   * the whole command hit one. Any other error of the whole command fails every statement with that error.
   */
  async function perStatement(n: number, command: () => Promise<Document>, alone: (i: number) => Promise<unknown>): Promise<(unknown | null)[]> {
    let errors: (unknown | null)[] = new Array(n).fill(null);
    try {
      const res = await command();
      for (const we of (res.writeErrors ?? []) as { index: number; code?: number; errmsg?: string }[]) {
        errors[we.index] = new MongoServerError({ message: we.errmsg ?? 'write error', errmsg: we.errmsg, code: we.code });
      }
    } catch (err) {
      if (!opts.isTransient(err)) return new Array(n).fill(err);
      errors = new Array(n).fill(err);
    }
    errors = await Promise.all(errors.map((e, i) => (e && opts.isTransient(e) ? opts.retry(() => alone(i)).then(() => null, (again) => again ?? e) : e)));
    return errors;
  }

  /** The error a caller of several statements gets: one that is not a duplicate key first (that one matters more). */
  const firstError = (errs: (unknown | null)[]) => errs.find((e) => e && !opts.isDuplicate(e)) ?? errs.find((e) => e) ?? null;

  function inserter(coll: Collection<Document>) {
    return queue<Document[]>(`${coll.collectionName}.insert`, async (groups) => {
      const docs = groups.flat();
      const errs =
        docs.length === 1
          ? await opts.retry(() => coll.insertOne(docs[0])).then(() => [null], (err) => [err])
          : await perStatement(docs.length, () => coll.db.command({ insert: coll.collectionName, documents: docs, ordered: false }), (i) => coll.insertOne(docs[i]));
      let k = 0;
      return groups.map((g) => firstError(errs.slice(k, (k += g.length))));
    });
  }

  /**
   * Writes by `_id` of concurrent callers, one statement each, at most MAX_UPDATES_PER_COMMAND to a raw `update` or
   * `delete` command; `alone` runs one statement as a single driver call (one caller, or a retry).
   */
  function statements<Op>(coll: Collection<Document>, kind: 'update' | 'delete', statement: (op: Op) => Document, alone: (op: Op) => Promise<unknown>) {
    return queue<Op>(`${coll.collectionName}.${kind}`, (ops) =>
      ops.length === 1
        ? opts.retry(() => alone(ops[0])).then(() => [null], (err) => [err])
        : perStatement(
            ops.length,
            () => coll.db.command({ [kind]: coll.collectionName, [kind === 'update' ? 'updates' : 'deletes']: ops.map(statement), ordered: false }),
            (i) => alone(ops[i]),
          ),
      MAX_UPDATES_PER_COMMAND,
    );
  }

  function updater(coll: Collection<Document>) {
    type Op = { id: unknown; update: UpdateFilter<Document> };
    // `multi: true` (the filter is one `_id`, so one document at most): FerretDB reads a `multi: false` statement's
    // document through a cursor it keeps open — one PostgreSQL connection held — until the whole command ends, and
    // then acquires another for the write: commands of several statements, waiting on each other, took its whole
    // pool for good (docs/deploy.md, "Store connections"). A `multi: true` statement's cursor is read to its end and
    // closed first, so a command holds at most one connection while it waits for another.
    return statements<Op>(coll, 'update', (o) => ({ q: { _id: o.id }, u: o.update, multi: true }), (o) => coll.updateOne({ _id: o.id } as Document, o.update));
  }

  function deleter(coll: Collection<Document>) {
    return statements<unknown>(coll, 'delete', (id) => ({ q: { _id: id }, limit: 1 }), (id) => coll.deleteOne({ _id: id } as Document));
  }

  const of = <T>(map: WeakMap<Collection<Document>, T>, coll: Collection<Document>, make: (c: Collection<Document>) => T) => {
    let x = map.get(coll);
    if (!x) map.set(coll, (x = make(coll)));
    return x;
  };

  return {
    findById<T extends Document>(coll: Collection<T>, id: T['_id']): Promise<T | null> {
      return of(readers, coll as unknown as Collection<Document>, reader)(id) as Promise<T | null>;
    },
    /** Inserts the caller's documents (in one command with those of concurrent callers); rejects with its first error. */
    insert<T extends Document>(coll: Collection<T>, docs: T[]): Promise<void> {
      return of(inserters, coll as unknown as Collection<Document>, inserter)(docs);
    },
    updateById<T extends Document>(coll: Collection<T>, id: T['_id'], update: UpdateFilter<T>): Promise<void> {
      return of(updaters, coll as unknown as Collection<Document>, updater)({ id, update: update as UpdateFilter<Document> });
    },
    /** Deletes the document (in one command with those of concurrent callers); a missing one is no error. */
    deleteById<T extends Document>(coll: Collection<T>, id: T['_id']): Promise<void> {
      return of(deleters, coll as unknown as Collection<Document>, deleter)(id);
    },
  };
}
