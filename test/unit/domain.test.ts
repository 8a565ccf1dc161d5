import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, nextDelay, parseRetryAfter, scheduleToMs, validateSchedule, RETRY_WINDOW_MS } from '../../src/domain/schedule.js';
import { formatDuration, parseDuration } from '../../src/domain/durations.js';
import { channelsMatch, eventTypeMatches, filterMatches } from '../../src/domain/filters.js';
import { addOutcomes, healthOf } from '../../src/domain/health.js';
import { isPublicAddress } from '../../src/domain/addresses.js';
import { newId } from '../../src/domain/ids.js';
import { classify } from '../../activities/http.js';
import { parseConfig } from '../../src/config.js';

describe('retry schedule', () => {
  it('default: immediately, then 1m, 5m, 15m, 1h, 4h, 8h, 10h — 8 attempts, the last just under 24 h', () => {
    const ms = scheduleToMs(DEFAULT_RETRY_SCHEDULE);
    expect(ms).toEqual([60e3, 300e3, 900e3, 3600e3, 4 * 3600e3, 8 * 3600e3, 10 * 3600e3]);
    const total = ms.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(24 * 3600e3);
    expect(total).toBeGreaterThan(23 * 3600e3);
    expect(nextDelay(ms, 1)).toBe(60e3);
    expect(nextDelay(ms, 7)).toBe(10 * 3600e3);
    expect(nextDelay(ms, 8)).toBeNull();
    expect(nextDelay([], 1)).toBeNull();
  });
  it('Retry-After only lengthens a delay, and never past the 24 h window', () => {
    expect(nextDelay([60e3], 1, { retryAfterMs: 5e3 })).toBe(60e3);
    expect(nextDelay([60e3], 1, { retryAfterMs: 120e3 })).toBe(120e3);
    expect(nextDelay([60e3], 1, { retryAfterMs: 48 * 3600e3, elapsedSinceFirstMs: 0 })).toBe(RETRY_WINDOW_MS);
    expect(nextDelay([60e3], 1, { retryAfterMs: 48 * 3600e3, elapsedSinceFirstMs: RETRY_WINDOW_MS })).toBe(60e3);
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString(), Date.now())).toBeGreaterThan(8000);
    expect(parseRetryAfter('soon')).toBeNull();
  });
  it('validates custom schedules: 1 s to 24 h each, 72 h in total', () => {
    expect(validateSchedule(['1s', '30m', '24h'])).toEqual([]);
    expect(validateSchedule(['500ms'])[0].index).toBe(0);
    expect(validateSchedule(['1m', 'soon'])[0].index).toBe(1);
    expect(validateSchedule(['24h', '24h', '24h', '1h']).length).toBe(1);
  });
  it('parses and formats durations', () => {
    expect(parseDuration('1h30m')).toBe(5400e3);
    expect(parseDuration('1x')).toBeNull();
    expect(formatDuration(5400e3)).toBe('1h30m');
  });
});

describe('matching', () => {
  it('event types: exact, *, prefix.*, null = all', () => {
    expect(eventTypeMatches(null, 'a.b')).toBe(true);
    expect(eventTypeMatches(['*'], 'a.b')).toBe(true);
    expect(eventTypeMatches(['sync.*'], 'sync.completed')).toBe(true);
    expect(eventTypeMatches(['sync.*'], 'syncx.completed')).toBe(false);
    expect(eventTypeMatches(['case.complete'], 'case.completed')).toBe(false);
  });
  it('channels', () => {
    expect(channelsMatch(null, null)).toBe(true);
    expect(channelsMatch(['a'], ['b', 'a'])).toBe(true);
    expect(channelsMatch(['a'], null)).toBe(false);
  });
  it('payload filters are MongoDB queries on the envelope', () => {
    const env = { id: 'evt_1', type: 'call.completed', timestamp: '', channels: null, data: { sentiment: 'negative', duration_seconds: 247, agent: { id: 'agent_123' } } };
    expect(filterMatches({ 'data.sentiment': { $in: ['negative'] } }, env)).toBe(true);
    expect(filterMatches({ 'data.sentiment': 'positive' }, env)).toBe(false);
    expect(filterMatches({ 'data.duration_seconds': { $gte: 200 }, 'data.agent.id': 'agent_123' }, env)).toBe(true);
    expect(filterMatches({ $or: [{ type: 'x' }, { 'data.sentiment': 'negative' }] }, env)).toBe(true);
  });
});

describe('health', () => {
  const now = new Date('2026-11-24T12:30:00Z');
  const ago = (min: number) => new Date(now.getTime() - min * 60_000);
  const run = (...oks: boolean[]) => oks.map((ok, i) => ({ ok, at: ago(oks.length - i) })); // oldest first, one a minute
  const of = (...oks: boolean[]) => addOutcomes({ hours: [], recent: [] }, run(...oks), now);
  it('unknown without attempts; healthy at ≥ 95 % or the last 5 ok; failing when the latest (up to 10) all failed', () => {
    expect(healthOf(null, now)).toBe('unknown');
    expect(healthOf(of(), now)).toBe('unknown');
    expect(healthOf(of(...Array(20).fill(true)), now)).toBe('healthy');
    expect(healthOf(of(...Array(5).fill(false), ...Array(5).fill(true)), now)).toBe('healthy');
    expect(healthOf(of(true, true, false), now)).toBe('degraded');
    expect(healthOf(of(...Array(10).fill(true), ...Array(10).fill(false)), now)).toBe('failing');
    expect(healthOf(of(false), now)).toBe('failing');
  });
  it('sums by the hour, keeps the latest 10 outcomes, and forgets what is older than 24 h', () => {
    const s = addOutcomes({ hours: [], recent: [] }, [{ ok: false, at: ago(25 * 60) }, ...run(...Array(30).fill(true))], now);
    expect(s.recent).toHaveLength(10);
    expect(s.hours.reduce((n, h) => n + h.ok, 0)).toBe(30);
    expect(s.hours.every((h) => h.failed === 0)).toBe(true); // the failure 25 h ago is dropped
    const later = new Date(now.getTime() + 26 * 3600_000);
    expect(healthOf(s, later)).toBe('unknown');
    expect(addOutcomes(s, [], later).hours).toEqual([]);
  });
  it("counts the failure streak in time order, also when another worker's older outcomes arrive late", () => {
    const stored = addOutcomes({ hours: [], recent: [] }, [{ ok: false, at: ago(5) }, { ok: false, at: ago(4) }, { ok: false, at: ago(1) }], now);
    expect(stored.streak).toBe(3);
    // A success at 2 minutes ago, written after the failure at 1 minute ago: one failure since the last success.
    expect(addOutcomes(stored, [{ ok: true, at: ago(2) }], now).streak).toBe(1);
    // Late failures only: still failures in a row on top.
    expect(addOutcomes(stored, [{ ok: false, at: ago(3) }], now).streak).toBe(4);
    expect(addOutcomes(stored, [{ ok: true, at: ago(0) }], now).streak).toBe(0);
  });
});

describe('addresses and errors', () => {
  it('only public unicast addresses are public', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '0.0.0.0', '100.64.0.1']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '8.8.8.8']) expect(isPublicAddress(a), a).toBe(true);
  });
  it('classifies send failures', () => {
    expect(classify({ code: 'ECONNREFUSED' })).toBe('connection_refused');
    expect(classify({ name: 'TimeoutError' })).toBe('timeout');
    expect(classify({ cause: { code: 'ENOTFOUND' } })).toBe('dns');
    expect(classify({ cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } })).toBe('tls');
    expect(classify({ cause: { code: 'EHOOKRELAY_BLOCKED' } })).toBe('blocked_address');
  });
  it('ids carry their prefix and sort by time', () => {
    const a = newId('evt', 1_000);
    const b = newId('evt', 2_000);
    expect(a).toMatch(/^evt_[0-9A-Z]{26}$/);
    expect(a < b).toBe(true);
  });
  it('config: production is strict, development relaxed, bad values refused', () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    expect(parseConfig({ HOOKRELAY_ENV: 'production', HOOKRELAY_ENCRYPTION_KEY: key })).toMatchObject({ allowHttpTargets: false, allowPrivateTargets: false, port: 3000 });
    expect(parseConfig({ HOOKRELAY_ENV: 'development' })).toMatchObject({ allowHttpTargets: true, allowPrivateTargets: true, encryptionKeys: [] });
    expect(parseConfig({ HOOKRELAY_ENV: 'production', HOOKRELAY_ENCRYPTION_KEY: key, ALLOW_PRIVATE_TARGETS: 'true' }).allowPrivateTargets).toBe(true);
    expect(() => parseConfig({ PORT: 'abc' })).toThrow();
    // Production seals secrets at rest: no key, or a key of the wrong size, refuses to start.
    expect(() => parseConfig({ HOOKRELAY_ENV: 'production' })).toThrow(/encryption key/);
    expect(() => parseConfig({ HOOKRELAY_ENV: 'development', HOOKRELAY_ENCRYPTION_KEY: 'short' })).toThrow(/32 bytes/);
  });
});
