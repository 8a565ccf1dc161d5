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
