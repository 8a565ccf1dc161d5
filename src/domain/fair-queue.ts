// A two-level fair queue (docs/architecture.md, "Fairness"): items are queued per flow (an endpoint), flows per
// tenant (an application). `shift()` takes one item at a time: tenants in turn, and within a tenant its flows in
// turn. At both levels a flow or tenant that has just become non-empty (a sparse one: it had nothing queued) is
// served before those with a backlog — the "new flows first" rule of FQ-CoDel (RFC 8290) — so a quiet tenant's
// item waits for at most one item of each backlogged tenant, not behind their backlogs, and a quiet endpoint of a
// noisy tenant likewise within its tenant. A tenant or flow that stays non-empty after its turn goes to the back
// of the backlogged list. No I/O.

type Level<K> = { fresh: K[]; old: K[] };

type Tenant<T> = { flows: Map<string, T[]>; order: Level<string>; size: number };

export class FairQueue<T> {
  private readonly tenants = new Map<string, Tenant<T>>();
  private readonly order: Level<string> = { fresh: [], old: [] };
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Items queued for one flow of `tenant`. */
  flowSize(tenant: string, flow: string): number {
    return this.tenants.get(tenant)?.flows.get(flow)?.length ?? 0;
  }

  /**
   * Queues an item at the back of its flow (`front`: at the front, an item to try again, which keeps its flow and
   * tenant among the backlogged ones; `burst`: one of many queued at once, never sparse). Returns true when its flow
   * had nothing queued (a sparse flow, not a backlog).
   */
  push(tenant: string, flow: string, item: T, front = false, burst = false): boolean {
    let t = this.tenants.get(tenant);
    // An item put back (`front`) was of a backlog, and one of a burst (`burst`: e.g. a fan-out to hundreds of
    // endpoints at once) is one: a flow or tenant it makes anew is not a fresh one. (Else a fan-out to 500 new
    // flows put 500 "sparse" starts first, and a quiet endpoint's flow behind them, past the scan of `shift`.)
    const backlog = front || burst;
    if (!t) {
      t = { flows: new Map(), order: { fresh: [], old: [] }, size: 0 };
      this.tenants.set(tenant, t);
      (backlog ? this.order.old : this.order.fresh).push(tenant);
    }
    let f = t.flows.get(flow);
    const sparse = !f && !backlog;
    if (!f) {
      f = [];
      t.flows.set(flow, f);
      (backlog ? t.order.old : t.order.fresh).push(flow);
    }
    if (front) f.unshift(item);
    else f.push(item);
    t.size++;
    this.count++;
    return sparse;
  }

  /**
   * The next item by the rules above, or undefined when empty. With `accept`, the next one whose flow's first item it
   * accepts (looking at up to 64 tenants, and 64 flows of each): the others keep their places.
   */
  shift(accept?: (item: T) => boolean): T | undefined {
    let seen = 0;
    for (const list of [this.order.fresh, this.order.old]) {
      for (let i = 0; i < list.length && seen < 64; i++, seen++) {
        const tk = list[i];
        const t = this.tenants.get(tk)!;
        const fk = this.takeFlow(t, accept);
        if (fk === undefined) continue;
        list.splice(i, 1);
        const items = t.flows.get(fk)!;
        const item = items.shift()!;
        t.size--;
        this.count--;
        if (items.length === 0) t.flows.delete(fk);
        else t.order.old.push(fk);
        if (t.size === 0) this.tenants.delete(tk);
        else this.order.old.push(tk);
        return item;
      }
    }
    return undefined;
  }

  /** Takes the tenant's next flow (whose first item `accept` accepts) out of its turn lists. */
  private takeFlow(t: Tenant<T>, accept?: (item: T) => boolean): string | undefined {
    let seen = 0;
    for (const list of [t.order.fresh, t.order.old]) {
      for (let i = 0; i < list.length && seen < 64; i++, seen++) {
        if (accept && !accept(t.flows.get(list[i])![0])) continue;
        return list.splice(i, 1)[0];
      }
    }
    return undefined;
  }

  /** Drops the items `drop` says so of (e.g. of a fan-out that failed), keeping the order of the rest. */
  remove(drop: (item: T) => boolean): number {
    let removed = 0;
    for (const [tk, t] of this.tenants) {
      for (const [fk, items] of t.flows) {
        const kept = items.filter((i) => !drop(i));
        const n = items.length - kept.length;
        if (n === 0) continue;
        removed += n;
        t.size -= n;
        this.count -= n;
        if (kept.length === 0) {
          t.flows.delete(fk);
          t.order.fresh = t.order.fresh.filter((k) => k !== fk);
          t.order.old = t.order.old.filter((k) => k !== fk);
        } else t.flows.set(fk, kept);
      }
      if (t.size === 0) {
        this.tenants.delete(tk);
        this.order.fresh = this.order.fresh.filter((k) => k !== tk);
        this.order.old = this.order.old.filter((k) => k !== tk);
      }
    }
    return removed;
  }
}
