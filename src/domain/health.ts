// Health of a webhook from its finished attempts of the last 24 h (rules in docs/architecture.md, "Health").
export type HealthStatus = 'healthy' | 'degraded' | 'failing' | 'unknown';

export const HEALTH_WINDOW_MS = 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;
/** How many of the latest attempt outcomes a summary keeps. */
export const RECENT_KEPT = 10;

export type HourBucket = { at: Date; ok: number; failed: number };
export type Outcome = { ok: boolean; at: Date };
export type HealthSummary = { hours: HourBucket[]; recent: Outcome[] };

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
    byHour.set(at.getTime(), b);
  }
  const oldest = now.getTime() - HEALTH_WINDOW_MS - HOUR_MS;
  const hours = [...byHour.values()].filter((h) => h.at.getTime() > oldest).sort((a, b) => b.at.getTime() - a.at.getTime());
  const recent = [...outcomes, ...s.recent].sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, RECENT_KEPT);
  return { hours, recent };
}

/**
 * `unknown`: no finished attempt in the last 24 h. `failing`: every one of the latest attempts (up to 10) failed.
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
  if ((ok + failed > 0 && ok / (ok + failed) >= 0.95) || (last5.length === 5 && last5.every((o) => o.ok))) return 'healthy';
  return 'degraded';
}
