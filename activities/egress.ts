import type { AttemptError } from '../src/storage/types.js';

/**
 * hookrelay's own path to a customer's endpoint — the egress proxy and the DNS resolver — and whether it works
 * (issue 24, item 2). A failure there is not the customer's: the attempt gets its own error code
 * (`proxy_unavailable`, `resolver_unavailable`), the delivery waits and tries again later without burning an
 * attempt of its schedule, and the webhook's health, failing clock and alerts never see it. This is what the worker
 * knows of it: the worker's `GET /readyz` (on WORKER_METRICS_PORT) and its metrics show it.
 */
export type PathError = Extract<AttemptError, 'proxy_unavailable' | 'resolver_unavailable'>;
export const PATH_ERRORS: ReadonlySet<string> = new Set<PathError>(['proxy_unavailable', 'resolver_unavailable']);
export const isPathError = (e: string | null | undefined): e is PathError => !!e && PATH_ERRORS.has(e);

type PathState = {
  /** When it started failing (null: it works, or was never used). */
  since: number | null;
  lastError: string | null;
  lastFailureAt: number | null;
  lastOkAt: number | null;
  /** Failures since it last worked. */
  failures: number;
  /** While it fails, when an attempt last went to try it. */
  triedAt: number;
};

/** One try a second goes to a failing path; the attempts in between wait without trying (no record, no request). */
const TRY_EVERY_MS = 1000;

/** Where a proxy URL's credentials must never go (readiness detail, logs): its host and port only. */
export function proxyName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'proxy';
  }
}

export function createEgressHealth(now: () => number = Date.now) {
  const proxies = new Map<string, PathState>();
  const resolver: PathState = fresh();
  const failures = { proxy_unavailable: 0, resolver_unavailable: 0 };
  function fresh(): PathState {
    return { since: null, lastError: null, lastFailureAt: null, lastOkAt: null, failures: 0, triedAt: 0 };
  }
  function proxy(url: string): PathState {
    let s = proxies.get(url);
    if (!s) {
      // Bounded: organizations' own proxies are few; past 1,000 the ones that work are forgotten first.
      if (proxies.size >= 1000) for (const [k, v] of proxies) if (v.since === null) proxies.delete(k);
      s = fresh();
      proxies.set(url, s);
    }
    return s;
  }
  const stateOf = (kind: PathError, proxyUrl: string | null) => (kind === 'proxy_unavailable' ? (proxyUrl ? proxy(proxyUrl) : null) : resolver);
  function mayTry(s: PathState): boolean {
    if (s.since === null) return true;
    if (now() - s.triedAt < TRY_EVERY_MS) return false;
    s.triedAt = now();
    return true;
  }
  return {
    failed(kind: PathError, proxyUrl: string | null, detail: string) {
      failures[kind]++;
      const s = stateOf(kind, proxyUrl);
      if (!s) return;
      s.since ??= now();
      s.lastFailureAt = now();
      s.lastError = detail.slice(0, 200);
      s.failures++;
      s.triedAt = now();
    },
    /** An attempt got past it (an answer, or an error of the endpoint's own). */
    ok(proxyUrl: string | null, resolved: boolean) {
      const at = now();
      for (const s of [proxyUrl ? proxy(proxyUrl) : null, resolved ? resolver : null]) {
        if (!s) continue;
        s.since = null;
        s.failures = 0;
        s.lastOkAt = at;
      }
    },
    /** Why an attempt should not be tried now (its path fails, and another attempt is trying it this second), or null. */
    refusal(proxyUrl: string | null, needsResolver: boolean): PathError | null {
      if (proxyUrl && !mayTry(proxy(proxyUrl))) return 'proxy_unavailable';
      if (needsResolver && !mayTry(resolver)) return 'resolver_unavailable';
      return null;
    },
    /**
     * How long a delivery whose path failed waits before its next try: a quarter of how long the path has been
     * failing, 5 s to 60 s, jittered (not an attempt: the schedule does not move).
     */
    retryDelayMs(kind: PathError, proxyUrl: string | null): number {
      const s = stateOf(kind, proxyUrl);
      const age = s?.since != null ? now() - s.since : 0;
      return Math.round(Math.min(60_000, Math.max(5000, age / 4)) * (0.8 + Math.random() * 0.4));
    },
    counts: () => ({ ...failures }),
    /** Paths failing now, by kind (the gauge). */
    unavailable: () => ({ proxy: [...proxies.values()].filter((s) => s.since !== null).length, resolver: resolver.since !== null ? 1 : 0 }),
    /** The worker's readiness detail: every path used, and whether it works. */
    snapshot() {
      const view = (s: PathState) => ({
        status: s.since !== null ? ('unavailable' as const) : s.lastOkAt !== null ? ('ok' as const) : ('unknown' as const),
        since: s.since !== null ? new Date(s.since).toISOString() : null,
        failures: s.failures,
        last_error: s.lastError,
        last_failure_at: s.lastFailureAt !== null ? new Date(s.lastFailureAt).toISOString() : null,
        last_ok_at: s.lastOkAt !== null ? new Date(s.lastOkAt).toISOString() : null,
      });
      const proxyList = [...proxies].map(([url, s]) => ({ proxy: proxyName(url), ...view(s) }));
      const down = proxyList.some((p) => p.status === 'unavailable') || resolver.since !== null;
      return { status: down ? ('degraded' as const) : ('ok' as const), proxies: proxyList, resolver: view(resolver) };
    },
  };
}

export type EgressHealth = ReturnType<typeof createEgressHealth>;
