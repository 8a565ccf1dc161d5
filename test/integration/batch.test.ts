import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection } from 'mongodb';
import { testStore } from '../support/api.js';
import { batchCounts, createBatcher, MAX_UPDATES_PER_COMMAND } from '../../src/storage/batch.js';
import { isDuplicateKey, isTransientBusy, retryBusy } from '../../src/storage/mongo.js';

// The hot path's shared round trips (src/storage/batch.ts), on the real FerretDB: concurrent callers share
// commands, each still gets its own answer, and no read is answered by a command sent before it was asked.
type Doc = { _id: string; v: number; tag?: string };
let coll: Collection<Doc>;
const b = createBatcher({ isTransient: isTransientBusy, isDuplicate: isDuplicateKey, retry: retryBusy });

beforeAll(async () => {
  const store = await testStore();
  coll = store.db.collection<Doc>(`batch_test_${Date.now()}`);
});
afterAll(async () => {
  await coll?.drop().catch(() => {});
});

describe('batched writes and reads by _id', () => {
  it('hundreds of concurrent updates on two collections finish: a command carries at most a few statements', async () => {
    // FerretDB holds a pooled connection per statement of an update command: two commands of ~100 statements each
    // took its whole pool of 100 and waited on each other for ever, before updates were capped per command.
    const store = await testStore();
    const one = store.db.collection<Doc>(`batch_test_a_${Date.now()}`);
    const other = store.db.collection<Doc>(`batch_test_b_${Date.now()}`);
    try {
      const ids = Array.from({ length: 150 }, (_, i) => `upd-${i}`);
      await one.insertMany(ids.map((_id) => ({ _id, v: 0 })));
      await other.insertMany(ids.map((_id) => ({ _id, v: 0 })));
      const before = { ...batchCounts };
      await Promise.all([
        ...ids.map((id) => b.updateById(one, id, { $set: { v: 1 } })),
        ...ids.map((id) => b.updateById(other, id, { $set: { v: 2 } })),
      ]);
      const commands = batchCounts.commands - before.commands;
      expect(commands).toBeGreaterThanOrEqual(Math.ceil((2 * ids.length) / MAX_UPDATES_PER_COMMAND));
      expect(commands).toBeLessThan(2 * ids.length);
      expect(await one.countDocuments({ v: 1 })).toBe(ids.length);
      expect(await other.countDocuments({ v: 2 })).toBe(ids.length);
    } finally {
      await Promise.all([one.drop().catch(() => {}), other.drop().catch(() => {})]);
    }
  }, 60_000);

  it('concurrent inserts share commands; a duplicate fails only its own caller', async () => {
    await coll.insertOne({ _id: 'dup', v: 0 });
    const before = { ...batchCounts };
    const ids = Array.from({ length: 40 }, (_, i) => `ins-${i}`);
    const results = await Promise.allSettled([
      ...ids.map((id, i) => b.insert(coll, [{ _id: id, v: i }])),
      b.insert(coll, [{ _id: 'dup', v: 1 }]),
      b.insert(coll, [{ _id: 'grp-1', v: 1 }, { _id: 'grp-2', v: 2 }]),
    ]);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed).toHaveLength(1);
    expect(isDuplicateKey(failed[0].reason)).toBe(true);
    expect(results[40].status).toBe('rejected');
    const stored = await coll.find({}).toArray();
    expect(stored.map((d) => d._id).sort()).toEqual([...ids, 'dup', 'grp-1', 'grp-2'].sort());
    expect((await coll.findOne({ _id: 'dup' }))!.v).toBe(0);
    const commands = batchCounts.commands - before.commands;
    const operations = batchCounts.operations - before.operations;
    expect(operations).toBe(42);
    // The first caller goes alone at once; those that came while it was in flight go together.
    expect(commands).toBeLessThanOrEqual(3);
  });

  it('concurrent updates by _id share commands and each applies', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `upd-${i}`);
    await coll.insertMany(ids.map((id) => ({ _id: id, v: 0 })));
    const before = { ...batchCounts };
    await Promise.all(ids.map((id, i) => b.updateById(coll, id, { $set: { v: i + 1, tag: `t${i}` } })));
    const docs = await coll.find({ _id: { $in: ids } }).toArray();
    for (const d of docs) expect(d.v).toBe(Number(d._id.split('-')[1]) + 1);
    expect(batchCounts.commands - before.commands).toBeLessThanOrEqual(3);
    // An update of a document that does not exist is no error (as updateOne), and changes nothing else.
    await b.updateById(coll, 'nothing-here', { $set: { v: 9 } });
    expect(await coll.findOne({ _id: 'nothing-here' })).toBeNull();
  });

  it('concurrent deletes by _id share commands (a few statements each) and remove only theirs', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `del-${i}`);
    await coll.insertMany([...ids, 'del-keep'].map((id) => ({ _id: id, v: 0 })));
    const before = { ...batchCounts };
    // One missing id among them: no error for it, nor for the others.
    await Promise.all([...ids, 'del-absent'].map((id) => b.deleteById(coll, id)));
    const commands = batchCounts.commands - before.commands;
    expect(commands).toBeGreaterThanOrEqual(Math.ceil(ids.length / MAX_UPDATES_PER_COMMAND));
    expect(commands).toBeLessThanOrEqual(1 + Math.ceil(ids.length / MAX_UPDATES_PER_COMMAND));
    expect(await coll.countDocuments({ _id: { $in: ids } })).toBe(0);
    expect(await coll.findOne({ _id: 'del-keep' })).not.toBeNull();
  });

  it('a read never gets an answer sent before it asked; concurrent readers get their own copies', async () => {
    await coll.insertOne({ _id: 'r', v: 1 });
    // One read in flight, then a write acknowledged, then a read: the second must see the write.
    const first = b.findById(coll, 'r');
    await coll.updateOne({ _id: 'r' }, { $set: { v: 2 } });
    const second = await b.findById(coll, 'r');
    expect(second!.v).toBe(2);
    expect([1, 2]).toContain((await first)!.v);
    const mid = batchCounts.commands;
    const many = await Promise.all(Array.from({ length: 20 }, () => b.findById(coll, 'r')));
    expect(many.every((d) => d!.v === 2)).toBe(true);
    many[1]!.v = 99;
    expect(many[2]!.v).toBe(2);
    // The first of the 20 goes at once, the 19 that came while it was in flight share the next command.
    expect(batchCounts.commands - mid).toBe(2);
    expect(await b.findById(coll, 'absent')).toBeNull();
  });
});

describe('when the database is gone', () => {
  it('every caller of a shared command gets the driver error itself (the API answers it 503)', async () => {
    const { MongoClient } = await import('mongodb');
    const { stack } = await import('../support/api.js');
    const { isMongoUnavailable } = await import('../../src/storage/mongo.js');
    const client = new MongoClient(stack().mongoUrl, { serverSelectionTimeoutMS: 500 });
    const gone = client.db(stack().mongoDb).collection<Doc>(coll.collectionName);
    await gone.findOne({});
    await client.close();
    const inserts = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => b.insert(gone, [{ _id: `gone-${i}`, v: i }])));
    const updates = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => b.updateById(gone, `gone-${i}`, { $set: { v: 1 } })));
    for (const r of [...inserts, ...updates]) {
      expect(r.status).toBe('rejected');
      expect(isMongoUnavailable((r as PromiseRejectedResult).reason)).toBe(true);
    }
  });
});
