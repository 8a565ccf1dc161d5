// The fairness gate of one worker process (docs/architecture.md, "Fairness"). No I/O: the caller sends, signals
// and keeps time through the callbacks it passes. Three bounds are checked before an attempt's request is sent:
//
// - per endpoint (webhook): attempts in flight at once ≤ its `limit`, which starts at 4 (slow start) and adapts:
//   halved by each attempt that timed out, down to 1; one more per attempt answered, up to `max_in_flight`;
// - per application (the fairness key: an application, or an organization's own webhooks): its attempts in flight
//   ≤ capacity / (applications with attempts in flight besides it + 2), so there is always room for a newcomer;
// - per process: all attempts in flight ≤ capacity.
//
// An attempt refused waits (durably, in its workflow) for a wake-up: when an attempt ends, the gate takes the
// first waiter of that endpoint that now fits (then, round-robin, of other endpoints), reserves its place and
// calls its `wake`. A reservation not claimed within `reserveMs` is given back.

/**
 * Why an attempt waits to be sent: the gate's three, or hookrelay's own path failing (the egress proxy or the DNS
 * resolver; activities/egress.ts) — never an attempt of the schedule.
 */
export type WaitReason = 'endpoint_in_flight' | 'application_share' | 'worker_capacity' | 'proxy_unavailable' | 'resolver_unavailable';

/**
 * The fairness key of a webhook: its application, or its organization for an organization-level webhook. The gate
 * shares the worker by it, and Temporal's task queue fairness shares dispatch by it (at most 64 bytes; ids are short).
 */
export function fairnessKey(orgId: string, applicationId: string | null | undefined): string {
  return applicationId ?? `org:${orgId}`;
}

export type GateKey = {
  /** The endpoint (webhook id). */
  endpoint: string;
  /** The fairness key: the application id, or `org:<id>` for an organization-level webhook. */
  app: string;
  /** The endpoint's configured bound on attempts in flight. */
  max: number;
};

/** The end of an attempt, as the adaptive bound sees it: answered, timed out, or another failure to connect. */
export type AttemptEnd = 'answered' | 'timeout' | 'error';

export type Ticket = { key: GateKey; released: boolean };

export type Admission = { ok: true; ticket: Ticket } | { ok: false; reason: WaitReason };

type Waiter = { id: string; key: GateKey; wake: () => void };

/** Where an endpoint's adaptive bound starts (or its `max`, if lower). */
export const INITIAL_LIMIT = 4;

type Endpoint = {
  inFlight: number;
  limit: number;
  max: number;
  waiters: Waiter[];
  /** Attempts of this endpoint that timed out or took longer than the slow mark, in a row. */
  slowStreak: number;
  /** When an attempt of this endpoint last ended (for forgetting idle endpoints). */
  lastAt: number;
  /** When an attempt of this endpoint was last answered (when it was first seen, before any answer). */
  answeredAt: number;
};

type Reservation = { key: GateKey; timer: ReturnType<typeof setTimeout> };

export type GateOptions = {
  /** Attempts in flight in this process at once. */
  capacity: number;
  /** How long a woken waiter's place is kept for it (its wake-up signal may wait behind a backlog of tasks). */
  reserveMs?: number;
  /** At most this many waiters in memory (past it a refused attempt still waits, but only its backstop wakes it). */
  maxWaiters?: number;
  now?: () => number;
};

export class FairGate {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly apps = new Map<string, number>();
  private readonly reservations = new Map<string, Reservation>();
  /** Endpoints that have waiters, in the order the round-robin visits them. */
  private readonly queued = new Set<string>();
  /** The endpoint each waiter waits for. */
  private readonly waiterAt = new Map<string, string>();
  private total = 0;
  private waiters = 0;
  readonly capacity: number;
  private readonly reserveMs: number;
  private readonly maxWaiters: number;
  private readonly now: () => number;

  constructor(opts: GateOptions) {
    this.capacity = Math.max(1, opts.capacity);
    this.reserveMs = opts.reserveMs ?? 60_000;
    this.maxWaiters = opts.maxWaiters ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  private endpoint(key: GateKey): Endpoint {
    let e = this.endpoints.get(key.endpoint);
    if (!e) {
      // Slow start: a new endpoint begins with a few in flight and earns the rest of its bound one answer at a time,
      // so endpoints that turn out to hang never hold their whole bound at once.
      e = { inFlight: 0, limit: Math.min(key.max, INITIAL_LIMIT), max: key.max, waiters: [], slowStreak: 0, lastAt: this.now(), answeredAt: this.now() };
      this.endpoints.set(key.endpoint, e);
      if (this.endpoints.size > 50_000) this.forgetIdle();
    }
    if (e.max !== key.max) {
      // The webhook's bound was changed: the adaptive bound stays where it was, below the new one.
      e.limit = Math.min(key.max, e.limit);
      e.max = key.max;
    }
    return e;
  }

  /** Applications with attempts in flight, besides `app`. */
  private othersActive(app: string): number {
    return this.apps.size - (this.apps.has(app) ? 1 : 0);
  }

  /** The most attempts `app` may have in flight now. */
  appShare(app: string): number {
    return Math.max(1, Math.floor(this.capacity / (this.othersActive(app) + 2)));
  }

  /** Why `key` cannot send now, or null when it can. */
  private refusal(key: GateKey, e: Endpoint): WaitReason | null {
    if (e.inFlight >= e.limit) return 'endpoint_in_flight';
    if (this.total >= this.capacity) return 'worker_capacity';
    if ((this.apps.get(key.app) ?? 0) >= this.appShare(key.app)) return 'application_share';
    return null;
  }

  private take(key: GateKey, e: Endpoint): void {
    e.inFlight++;
    this.total++;
    this.apps.set(key.app, (this.apps.get(key.app) ?? 0) + 1);
  }

  private give(key: GateKey): void {
    const e = this.endpoints.get(key.endpoint);
    if (e) e.inFlight = Math.max(0, e.inFlight - 1);
    this.total = Math.max(0, this.total - 1);
    const n = (this.apps.get(key.app) ?? 1) - 1;
    if (n <= 0) this.apps.delete(key.app);
    else this.apps.set(key.app, n);
  }

  /**
   * Asks to send one attempt of `waiterId` (a delivery's run) to `key`. A place reserved for it by a wake-up is
   * taken first. Refused: `wait()` registers the wake-up.
   */
  admit(key: GateKey, waiterId: string): Admission {
    const reserved = this.reservations.get(waiterId);
    if (reserved) {
      clearTimeout(reserved.timer);
      this.reservations.delete(waiterId);
      return { ok: true, ticket: { key: reserved.key, released: false } };
    }
    const e = this.endpoint(key);
    // Waiters of this endpoint go first: a newcomer does not overtake them (the first in line itself may go, when
    // its wake-up was lost and its backstop brought it back).
    const reason = this.reasonFor(key, e, waiterId);
    if (reason) return { ok: false, reason };
    const first = e.waiters[0]?.id === waiterId;
    if (first) {
      e.waiters.shift();
      this.waiterAt.delete(waiterId);
      this.waiters--;
      if (e.waiters.length === 0) this.queued.delete(key.endpoint);
    }
    this.take(key, e);
    return { ok: true, ticket: { key, released: false } };
  }

  /**
   * Why `admit` would refuse now, without taking anything (null: it would admit). Lets the caller refuse a waiter
   * before any other work, e.g. reading the database.
   */
  peek(key: GateKey, waiterId: string): WaitReason | null {
    if (this.reservations.has(waiterId)) return null;
    const e = this.endpoints.get(key.endpoint);
    return e ? this.reasonFor({ ...key, max: e.max }, e, waiterId) : null;
  }

  /** Why `waiterId` cannot send to `key` now: behind others in its endpoint's line, or a bound (null: it can). */
  private reasonFor(key: GateKey, e: Endpoint, waiterId: string): WaitReason | null {
    if (e.waiters.length > 0 && e.waiters[0].id !== waiterId) return 'endpoint_in_flight';
    return this.refusal(key, e);
  }

  /** Deliveries in line, in all. */
  get waitingCount(): number {
    return this.waiters;
  }

  /** True while `waiterId` is in line (not yet woken). */
  isWaiting(waiterId: string): boolean {
    return this.waiterAt.has(waiterId);
  }

  /**
   * Registers a refused attempt to be woken when it fits. Returns its place in its endpoint's line (0 = first), or
   * -1 when the gate holds too many waiters already (its backstop wakes it).
   */
  wait(key: GateKey, waiterId: string, wake: () => void): number {
    const e = this.endpoint(key);
    const at = e.waiters.findIndex((w) => w.id === waiterId);
    if (at !== -1) {
      e.waiters[at].wake = wake;
      return at;
    }
    if (this.waiters >= this.maxWaiters) return -1;
    e.waiters.push({ id: waiterId, key, wake });
    this.waiterAt.set(waiterId, key.endpoint);
    this.waiters++;
    this.queued.add(key.endpoint);
    // It may fit already (the attempt that refused it ended in between).
    this.pump(key.endpoint);
    return e.waiters.length - 1;
  }

  /** An attempt ended: its place goes back, the endpoint's bound adapts, and waiters that now fit are woken. */
  release(ticket: Ticket, end: AttemptEnd, slow: boolean): void {
    if (ticket.released) return;
    ticket.released = true;
    this.give(ticket.key);
    const e = this.endpoints.get(ticket.key.endpoint);
    if (e) {
      e.lastAt = this.now();
      if (end === 'timeout') e.limit = Math.max(1, Math.floor(e.limit / 2));
      else if (end === 'answered') {
        e.limit = Math.min(e.max, e.limit + 1);
        e.answeredAt = this.now();
      }
      e.slowStreak = slow || end === 'timeout' ? e.slowStreak + 1 : 0;
    }
    this.pump(ticket.key.endpoint);
  }

  /** Takes a waiter out of line, or gives back its reserved place: its delivery ended (cancelled) or holds (paused). */
  forget(waiterId: string): void {
    const at = this.waiterAt.get(waiterId);
    if (at !== undefined) {
      this.waiterAt.delete(waiterId);
      const e = this.endpoints.get(at);
      const i = e ? e.waiters.findIndex((w) => w.id === waiterId) : -1;
      if (e && i !== -1) {
        e.waiters.splice(i, 1);
        this.waiters--;
        if (e.waiters.length === 0) this.queued.delete(at);
      }
    }
    const r = this.reservations.get(waiterId);
    if (r) {
      clearTimeout(r.timer);
      this.reservations.delete(waiterId);
      this.give(r.key);
      this.pump(r.key.endpoint);
    }
  }

  /**
   * True when the endpoint answered an attempt within the last `ms` (or was first seen then, and none of its attempts
   * was slow yet): its places free up quickly.
   */
  answeredWithin(endpoint: string, ms: number): boolean {
    const e = this.endpoints.get(endpoint);
    return !!e && e.slowStreak === 0 && this.now() - e.answeredAt <= ms;
  }

  /** True while the endpoint's latest attempts timed out or were slow (its attempts are not waited for inline). */
  isSlow(endpoint: string): boolean {
    return (this.endpoints.get(endpoint)?.slowStreak ?? 0) > 0;
  }

  /**
   * Wakes the waiters that fit, endpoints in turn (an endpoint served goes to the back): a place freed by a slow
   * endpoint of an application at its share may go to a sibling endpoint, not back to the slow one's line.
   * At most 64 endpoints are looked at per call; then `first` (the endpoint whose attempt ended) if none woke.
   */
  private pump(first: string): void {
    let visited = 0;
    let woke = 0;
    for (const id of [...this.queued]) {
      if (++visited > 64 || this.total >= this.capacity) break;
      const n = this.wakeFrom(id, 1);
      if (n > 0) {
        woke += n;
        this.queued.delete(id);
        if ((this.endpoints.get(id)?.waiters.length ?? 0) > 0) this.queued.add(id);
      }
    }
    if (this.total < this.capacity && (woke === 0 || this.queued.has(first))) this.wakeFrom(first, Infinity);
  }

  private wakeFrom(id: string, most: number): number {
    const e = this.endpoints.get(id);
    if (!e) return 0;
    let woke = 0;
    while (e.waiters.length > 0 && woke < most) {
      const w = e.waiters[0];
      if (this.refusal(w.key, e)) break;
      e.waiters.shift();
      this.waiterAt.delete(w.id);
      this.waiters--;
      this.take(w.key, e);
      const timer = setTimeout(() => {
        if (this.reservations.get(w.id)?.timer !== timer) return;
        this.reservations.delete(w.id);
        this.give(w.key);
        this.pump(w.key.endpoint);
      }, this.reserveMs);
      (timer as { unref?: () => void }).unref?.();
      this.reservations.set(w.id, { key: w.key, timer });
      woke++;
      try {
        w.wake();
      } catch {
        // its reservation runs out
      }
    }
    if (e.waiters.length === 0) this.queued.delete(id);
    return woke;
  }

  /** Endpoints with nothing in flight, nothing waiting and nothing for a while are forgotten (their bound resets). */
  private forgetIdle(): void {
    const cutoff = this.now() - 10 * 60_000;
    for (const [id, e] of this.endpoints) if (e.inFlight === 0 && e.waiters.length === 0 && e.lastAt < cutoff) this.endpoints.delete(id);
  }

  /** Place in line of a waiter's endpoint: how many wait, its bound now, and how many are in flight. */
  line(endpoint: string): { waiting: number; limit: number; inFlight: number } {
    const e = this.endpoints.get(endpoint);
    return { waiting: e?.waiters.length ?? 0, limit: e?.limit ?? 0, inFlight: e?.inFlight ?? 0 };
  }

  stats(): { inFlight: number; waiting: number; reserved: number; applications: number; endpointsLimited: number; endpointsSlow: number } {
    let limited = 0;
    let slow = 0;
    for (const e of this.endpoints.values()) {
      if (e.limit < e.max) limited++;
      if (e.slowStreak > 0) slow++;
    }
    return { inFlight: this.total, waiting: this.waiters, reserved: this.reservations.size, applications: this.apps.size, endpointsLimited: limited, endpointsSlow: slow };
  }
}
