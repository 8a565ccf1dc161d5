import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/domain/fair-queue.js';

const drain = (q: FairQueue<string>, n = Infinity) => {
  const out: string[] = [];
  while (out.length < n) {
    const x = q.shift();
    if (x === undefined) break;
    out.push(x);
  }
  return out;
};

describe('FairQueue', () => {
  it('keeps one flow in order', () => {
    const q = new FairQueue<string>();
    for (const x of ['a', 'b', 'c']) q.push('t', 'f', x);
    expect(drain(q)).toEqual(['a', 'b', 'c']);
    expect(q.size).toBe(0);
  });

  it("serves a quiet tenant's item next, not behind another tenant's backlog", () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 1000; i++) q.push('A', `wh${i % 50}`, `a${i}`);
    drain(q, 10);
    q.push('B', 'whB', 'b1');
    expect(q.shift()).toBe('b1');
  });

  it("serves a quiet endpoint of a noisy tenant within that tenant's next turn", () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 1000; i++) q.push('A', `wh${i % 50}`, `a${i}`);
    drain(q, 100);
    q.push('A', 'healthy', 'h1');
    expect(q.shift()).toBe('h1');
  });

  it('takes backlogged tenants in turn, and their endpoints in turn', () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 4; i++) q.push('A', 'x', `ax${i}`);
    for (let i = 0; i < 4; i++) q.push('A', 'y', `ay${i}`);
    for (let i = 0; i < 4; i++) q.push('B', 'z', `bz${i}`);
    expect(drain(q, 6)).toEqual(['ax0', 'bz0', 'ay0', 'bz1', 'ax1', 'bz2']);
  });

  it('puts an item to try again at the front of its flow, and drops a failed fan-out keeping the rest in order', () => {
    const q = new FairQueue<string>();
    for (const x of ['1', '2', '3']) q.push('A', 'f', x);
    const first = q.shift()!;
    q.push('A', 'f', first, true);
    expect(q.remove((x) => x === '2')).toBe(1);
    expect(drain(q)).toEqual(['1', '3']);
    expect(q.size).toBe(0);
  });
});

describe('FairQueue.shift(accept)', () => {
  it('takes the next accepted item and leaves the others in their places and turns', () => {
    const q = new FairQueue<{ id: string; sparse: boolean }>();
    for (let i = 0; i < 500; i++) q.push('A', `wh${i}`, { id: `a${i}`, sparse: false });
    q.push('B', 'whB', { id: 'b1', sparse: true });
    // Only sparse ones may go: B's, wherever it is, and A's flows keep their order.
    expect(q.shift((x) => x.sparse)?.id).toBe('b1');
    expect(q.shift((x) => x.sparse)).toBeUndefined();
    expect(q.shift()?.id).toBe('a0');
    expect(q.shift()?.id).toBe('a1');
    expect(q.size).toBe(498);
  });
});

describe('FairQueue: items put back', () => {
  it("do not come back as fresh flows ahead of a sparse one (found: 500 retried starts hid a quiet endpoint's)", () => {
    const q = new FairQueue<{ id: string; sparse: boolean }>();
    for (let i = 0; i < 200; i++) q.push('A', `wh${i}`, { id: `a${i}`, sparse: false });
    const taken = Array.from({ length: 200 }, () => q.shift()!);
    // Temporal was unreachable: every one is put back at the front of its (now empty) flow.
    for (const t of taken) q.push('A', `wh${t.id.slice(1)}`, t, true);
    expect(q.push('A', 'healthy', { id: 'h1', sparse: true })).toBe(true);
    expect(q.shift((x) => x.sparse)?.id).toBe('h1');
  });

  it("a burst's new flows are not sparse: a quiet endpoint of the same tenant is found past 500 of them", () => {
    const q = new FairQueue<{ id: string; sparse: boolean }>();
    // A fan-out to 500 endpoints at once, twice (the noisy bench's fail-fast application).
    for (let e = 0; e < 2; e++) for (let i = 0; i < 500; i++) q.push('A', `wh${i}`, { id: `a${e}-${i}`, sparse: false }, false, true);
    const pushedSparse = q.push('A', 'ok', { id: 'ok1', sparse: true });
    expect(pushedSparse).toBe(true);
    // Taking only sparse items (the start queue when its backlog slots are full): the quiet endpoint's.
    expect(q.shift((item) => item.sparse)?.id).toBe('ok1');
    expect(q.shift((item) => item.sparse)).toBeUndefined();
  });
});
