import { describe, expect, it } from 'vitest';
import type { Collection, Document } from 'mongodb';
import { createBatcher } from '../../src/storage/batch.js';

// The batcher's queue on its own (src/storage/batch.ts; its behaviour against FerretDB is in
// test/integration/batch.test.ts): a command that never answers lets go of its queue after stuckMs.
describe('a stuck command', () => {
  it('stops holding the queue: its callers wait on, later callers go ahead', async () => {
    let calls = 0;
    const never = new Promise<Document | null>(() => {});
    const coll = { findOne: () => (++calls === 1 ? never : Promise.resolve({ _id: 'x', v: calls })) } as unknown as Collection<Document>;
    const b = createBatcher({ isTransient: () => false, isDuplicate: () => false, retry: (fn) => fn(), stuckMs: 50 });
    const first = b.findById(coll, 'x');
    const second = b.findById(coll, 'x'); // queued behind the stuck read
    expect(await second).toEqual({ _id: 'x', v: 2 });
    expect(await Promise.race([first.then(() => 'settled'), new Promise((r) => setTimeout(() => r('waiting'), 20))])).toBe('waiting');
  });

  it('a value that cannot be copied fails its own caller only', async () => {
    let release!: (d: Document) => void;
    const coll = { findOne: () => new Promise<Document>((r) => (release = r)) } as unknown as Collection<Document>;
    const b = createBatcher({ isTransient: () => false, isDuplicate: () => false, retry: (fn) => fn() });
    const a = b.findById(coll, 'y');
    release({ _id: 'y', v: 1 });
    await a;
    await new Promise((r) => setTimeout(r, 0)); // its command has let go of the queue
    // One read in flight with two waiters behind it; the answer holds a function, which structuredClone refuses.
    const inFlight = b.findById(coll, 'y');
    const w1 = b.findById(coll, 'y');
    const w2 = b.findById(coll, 'y');
    release({ _id: 'y', v: 2 });
    await inFlight;
    await new Promise((r) => setTimeout(r, 0)); // the waiters' read is sent once the first one ended
    release({ _id: 'y', f: () => 1 });
    const [r1, r2] = await Promise.allSettled([w1, w2]);
    expect(r1.status).toBe('fulfilled');
    expect(r2.status).toBe('rejected');
  });
});

// A command that failed because the database is unreachable fails those queued behind it at once: they would
// otherwise send a command of their own and wait as long again (a publish answered 503 after 3.2 s, not 1.6 s).
describe('a command that failed as "database unavailable"', () => {
  const down = Object.assign(new Error('connect ECONNREFUSED'), { unavailable: true });
  const opts = { isTransient: () => false, isDuplicate: () => false, retry: <T>(fn: () => Promise<T>) => fn(), isUnavailable: (e: unknown) => (e as { unavailable?: boolean }).unavailable === true };

  it('fails the reads of the same id queued behind it, without another command', async () => {
    let calls = 0;
    let fail!: (e: unknown) => void;
    const coll = { findOne: () => (++calls, new Promise<Document>((_, r) => (fail = r))) } as unknown as Collection<Document>;
    const b = createBatcher(opts);
    const first = b.findById(coll, 'x');
    const behind = [b.findById(coll, 'x'), b.findById(coll, 'x')];
    fail(down);
    const results = await Promise.allSettled([first, ...behind]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(calls).toBe(1);
  });

  it('fails the writes queued behind it; any other error leaves them to their own command', async () => {
    let calls = 0;
    const fails: ((e: unknown) => void)[] = [];
    const coll = { collectionName: 'c', updateOne: () => (++calls, new Promise((_, r) => fails.push(r))), db: { command: () => (++calls, new Promise((_, r) => fails.push(r))) } } as unknown as Collection<Document>;
    const b = createBatcher(opts);
    const first = b.updateById(coll, 'a', { $set: { v: 1 } });
    const behind = b.updateById(coll, 'b', { $set: { v: 1 } });
    await new Promise((r) => setTimeout(r, 0)); // the first command is sent on the next tick
    fails[0](down);
    expect((await Promise.allSettled([first, behind])).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);

    const other = b.updateById(coll, 'c', { $set: { v: 1 } });
    const next = b.updateById(coll, 'd', { $set: { v: 1 } });
    await new Promise((r) => setTimeout(r, 0));
    fails[1](new Error('a write error of its own'));
    await expect(other).rejects.toThrow('a write error of its own');
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toBe(3); // the one behind went in a command of its own
    fails[2](down);
    await expect(next).rejects.toBe(down);
  });
});
