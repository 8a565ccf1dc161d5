import { parseDuration } from './durations.js';

/** Delays between attempts: attempt 1 immediately, then these. The last lands just under 24 h after the first. */
export const DEFAULT_RETRY_SCHEDULE = ['1m', '5m', '15m', '1h', '4h', '8h', '10h'];
export const MIN_DELAY_MS = 1000;
export const MAX_DELAY_MS = 24 * 3600 * 1000;
export const MAX_SCHEDULE_TOTAL_MS = 72 * 3600 * 1000;
/** Retry-After may stretch a delay, but never past this window after the first attempt. */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;

export type ScheduleProblem = { index: number; message: string };

export function validateSchedule(schedule: string[]): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  let total = 0;
  schedule.forEach((text, index) => {
    const ms = parseDuration(text);
    if (ms === null) problems.push({ index, message: `"${text}" is not a duration like 30s, 5m, 1h` });
    else if (ms < MIN_DELAY_MS || ms > MAX_DELAY_MS) problems.push({ index, message: 'each delay must be between 1s and 24h' });
    else total += ms;
  });
  if (total > MAX_SCHEDULE_TOTAL_MS) problems.push({ index: schedule.length - 1, message: 'the delays add up to more than 72h' });
  return problems;
}

export function scheduleToMs(schedule: string[]): number[] {
  return schedule.map((text) => {
    const ms = parseDuration(text);
    if (ms === null) throw new Error(`invalid delay ${text}`);
    return ms;
  });
}

/**
 * The wait before the next attempt, or null when the schedule is exhausted.
 * `attemptInRun` counts attempts made in this run (1 after the first); Retry-After can only lengthen the wait,
 * and only up to the retry window measured from the run's first attempt.
 */
export function nextDelay(
  scheduleMs: number[],
  attemptInRun: number,
  opts: { retryAfterMs?: number | null; elapsedSinceFirstMs?: number } = {},
): number | null {
  if (attemptInRun > scheduleMs.length) return null;
  const scheduled = scheduleMs[attemptInRun - 1];
  const asked = opts.retryAfterMs ?? 0;
  if (asked <= scheduled) return scheduled;
  const room = RETRY_WINDOW_MS - (opts.elapsedSinceFirstMs ?? 0);
  return Math.max(scheduled, Math.min(asked, room));
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
