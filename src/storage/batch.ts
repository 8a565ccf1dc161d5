import { MongoBulkWriteError, MongoServerError, type AnyBulkWriteOperation, type Collection, type Document, type UpdateFilter } from 'mongodb';

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
 *
 * Transient SQLite lock conflicts (FerretDB) of one element are retried for that element alone, through `retry`.
 */
export type Batcher = ReturnType<typeof createBatcher>;

type Waiter<T> = { ok(v: T): void; fail(err: unknown): void };

/** Commands sent and operations they carried, per kind (for tests and the bench). */
export const batchCounts = { commands: 0, operations: 0 };

export function createBatcher(opts: { isTransient(err: unknown): boolean; retry<T>(fn: () => Promise<T>): Promise<T> }) {
  const readers = new WeakMap<Collection<Document>, ReturnType<typeof reader>>();
  const inserters = new WeakMap<Collection<Document>, ReturnType<typeof inserter>>();
  const updaters = new WeakMap<Collection<Document>, ReturnType<typeof updater>>();

  function reader(coll: Collection<Document>) {
    const queued = new Map<unknown, Waiter<Document | null>[]>();
    const busy = new Set<unknown>();
    const send = (id: unknown) => {
      const waiters = queued.get(id)!;
      queued.delete(id);
      busy.add(id);
      batchCounts.commands++;
      batchCounts.operations += waiters.length;
      opts
        .retry(() => coll.findOne({ _id: id } as Document))
        .then(
          (doc) => waiters.forEach((w, i) => w.ok(doc === null || i === 0 ? doc : structuredClone(doc))),
          (err) => waiters.forEach((w) => w.fail(err)),
        )
        .finally(() => {
          busy.delete(id);
          if (queued.has(id)) send(id);
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

  /** One queue per collection: what arrives while a command is in flight goes in the next one. */
  function queue<Op>(run: (ops: Op[]) => Promise<(unknown | null)[]>) {
    let pending: { op: Op; w: Waiter<void> }[] = [];
    let busy = false;
    const send = () => {
      const batch = pending;
      pending = [];
      busy = true;
      batchCounts.commands++;
      batchCounts.operations += batch.length;
      void run(batch.map((b) => b.op))
        .catch((err) => batch.map(() => err))
        .then((errors) => batch.forEach((b, i) => (errors[i] ? b.w.fail(errors[i]) : b.w.ok())))
        .finally(() => {
          busy = false;
          if (pending.length > 0) send();
        });
    };
    return (op: Op) =>
      new Promise<void>((ok, fail) => {
        pending.push({ op, w: { ok, fail } });
        if (!busy) send();
      });
  }

  /**
   * Runs a bulk write of n statements and maps its errors to statement indexes; a statement that hit a lock
   * conflict runs again alone (it had no effect). An error that names no statement fails every one.
   */
  async function perStatement(n: number, write: () => Promise<unknown>, alone: (i: number) => Promise<unknown>): Promise<(unknown | null)[]> {
    let errors: (unknown | null)[] = new Array(n).fill(null);
    try {
      await write();
      return errors;
    } catch (err) {
      const writeErrors = err instanceof MongoBulkWriteError ? (Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]) : [];
      if (writeErrors.length === 0) return new Array(n).fill(err);
      for (const we of writeErrors) errors[we.index] = new MongoServerError({ message: we.errmsg ?? 'write error', errmsg: we.errmsg, code: we.code });
    }
    errors = await Promise.all(errors.map((e, i) => (e && opts.isTransient(e) ? opts.retry(() => alone(i)).then(() => null, (again) => again) : e)));
    return errors;
  }

  /** The error a caller of several statements gets: one that is not a duplicate key first (that one matters more). */
  const firstError = (errs: (unknown | null)[]) => errs.find((e) => e && !(e instanceof MongoServerError && (e.code === 11000 || e.code === 11001))) ?? errs.find((e) => e) ?? null;

  function inserter(coll: Collection<Document>) {
    return queue<Document[]>(async (groups) => {
      const docs = groups.flat();
      const errs =
        docs.length === 1
          ? await opts.retry(() => coll.insertOne(docs[0])).then(() => [null], (err) => [err])
          : await perStatement(docs.length, () => coll.insertMany(docs, { ordered: false }), (i) => coll.insertOne(docs[i]));
      let k = 0;
      return groups.map((g) => firstError(errs.slice(k, (k += g.length))));
    });
  }

  function updater(coll: Collection<Document>) {
    type Op = { id: unknown; update: UpdateFilter<Document> };
    return queue<Op>((ops) =>
      ops.length === 1
        ? opts.retry(() => coll.updateOne({ _id: ops[0].id } as Document, ops[0].update)).then(() => [null], (err) => [err])
        : perStatement(
            ops.length,
            () => coll.bulkWrite(ops.map((o): AnyBulkWriteOperation<Document> => ({ updateOne: { filter: { _id: o.id } as Document, update: o.update } })), { ordered: false }),
            (i) => coll.updateOne({ _id: ops[i].id } as Document, ops[i].update),
          ),
    );
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
  };
}
