// Health of a webhook from its finished attempts of the last 24 h (rules in docs/architecture.md, "Health").
/** `slow`: not failing, but most of the latest attempts timed out or took longer than SLOW_ATTEMPT_MS. */
export type HealthStatus = 'healthy' | 'slow' | 'degraded' | 'failing' | 'unknown';

export const HEALTH_WINDOW_MS = 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;
/** How many of the latest attempt outcomes a summary keeps. */
export const RECENT_KEPT = 10;

/** Upper bounds (ms) of the latency histogram buckets; the last bucket counts everything slower. */
export const LATENCY_BOUNDS_MS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];

/** `lat[i]`: attempts that took at most LATENCY_BOUNDS_MS[i] (and more than the bound before); the extra last slot: slower. */
export type HourBucket = { at: Date; ok: number; failed: number; lat?: number[] };
/** `slow`: the attempt timed out or took longer than 5 s (kept in `recent` only when true). */
export type Outcome = { ok: boolean; at: Date; durationMs?: number; slow?: boolean };
/** `streak`: failed attempts in a row up to the latest (0 after a success). */
export type HealthSummary = { hours: HourBucket[]; recent: Outcome[]; streak?: number };

export const hourOf = (t: Date): Date => new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);

/** Adds attempt outcomes to a summary; drops hours older than the window and keeps the latest RECENT_KEPT outcomes. */
export function addOutcomes(s: HealthSummary, outcomes: Outcome[], now: Date): HealthSummary {
  const byHour = new Map<number, HourBucket>();
  for (const h of s.hours) byHour.set(h.at.getTime(), { ...h });
  for (const o of outcomes) {
    const at = hourOf(o.at);
    const b = byHour.get(at.getTime()) ?? { at, ok: 0, failed: 0 };
    if (o.ok) b.ok++;
    else b.failed++;
    if (o.durationMs !== undefined) {
      const lat = b.lat ?? new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
      const i = LATENCY_BOUNDS_MS.findIndex((bound) => o.durationMs! <= bound);
      lat[i === -1 ? LATENCY_BOUNDS_MS.length : i]++;
      b.lat = lat;
    }
    byHour.set(at.getTime(), b);
  }
  const oldest = now.getTime() - HEALTH_WINDOW_MS - HOUR_MS;
  const hours = [...byHour.values()].filter((h) => h.at.getTime() > oldest).sort((a, b) => b.at.getTime() - a.at.getTime());
  const recent = [...outcomes.map((o) => ({ ok: o.ok, at: o.at, ...(o.slow ? { slow: true } : {}) })), ...s.recent].sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, RECENT_KEPT);
  let streak = s.streak ?? 0;
  const latest = s.recent[0]?.at.getTime() ?? -Infinity;
  if (outcomes.every((o) => o.at.getTime() >= latest)) {
    for (const o of [...outcomes].sort((a, b) => a.at.getTime() - b.at.getTime())) streak = o.ok ? 0 : streak + 1;
  } else {
    // Outcomes older than the summary's latest (another worker's, written late): the streak is the failures at
    // the top of the merged list; if all the kept ones failed, the stored streak plus these failures.
    const lead = recent.findIndex((o) => o.ok);
    streak = lead === -1 ? (s.streak ?? 0) + outcomes.filter((o) => !o.ok).length : lead;
  }
  return { hours, recent, streak };
}

/**
 * `unknown`: no finished attempt in the last 24 h. `failing`: every one of the latest attempts (up to 10) failed.
 * `slow`: not failing, and at least 3 of the latest 5 attempts timed out or took longer than 5 s.
 * `healthy`: at least 95 % of the attempts of the last 24 h succeeded, or the latest 5 did. `degraded`: otherwise.
 * The window is counted by the hour (an attempt stays counted until its hour is more than 24 h old).
 */
export function healthOf(s: HealthSummary | null, now: Date): HealthStatus {
  if (!s) return 'unknown';
  const oldest = now.getTime() - HEALTH_WINDOW_MS;
  let ok = 0;
  let failed = 0;
  for (const h of s.hours) {
    if (h.at.getTime() + HOUR_MS <= oldest) continue;
    ok += h.ok;
    failed += h.failed;
  }
  const recent = s.recent.filter((o) => o.at.getTime() >= oldest);
  if (ok + failed === 0 && recent.length === 0) return 'unknown';
  if (recent.length > 0 && recent.every((o) => !o.ok)) return 'failing';
  const last5 = recent.slice(0, 5);
  // Slow: at least 3 of the latest 5 attempts timed out or took longer than 5 s (the endpoint gets fewer in flight).
  if (last5.filter((o) => o.slow).length >= 3) return 'slow';
  if ((ok + failed > 0 && ok / (ok + failed) >= 0.95) || (last5.length === 5 && last5.every((o) => o.ok))) return 'healthy';
  return 'degraded';
}

/** Sums of the summaries' hours within the window: attempts and a latency histogram. */
export function sumWindow(summaries: HealthSummary[], now: Date, windowMs = HEALTH_WINDOW_MS) {
  const oldest = now.getTime() - windowMs;
  const lat = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  let ok = 0;
  let failed = 0;
  for (const s of summaries) {
    for (const h of s.hours) {
      if (h.at.getTime() + HOUR_MS <= oldest) continue;
      ok += h.ok;
      failed += h.failed;
      h.lat?.forEach((n, i) => (lat[i] += n));
    }
  }
  return { ok, failed, lat };
}

/** A percentile from a latency histogram, as the upper bound of the bucket it falls in (null without data). */
export function histogramPercentile(lat: number[], p: number): number | null {
  const total = lat.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let i = 0; i < lat.length; i++) {
    seen += lat[i];
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : 60_000; // the longest timeout
  }
  return null;
}
