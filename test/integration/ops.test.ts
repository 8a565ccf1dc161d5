import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, stack } from '../support/api.js';
// @ts-expect-error plain JS module shared with npm start
import { freePort, startApi, startFerret } from '../../scripts/stack.js';

type Proc = { stop(): Promise<void>; kill(signal?: string): Promise<unknown>; url: string };

// Dependencies going away: the API answers 503 (and writes nothing) while MongoDB is gone, /readyz says so
// within seconds, and both heal without restarting the API. Also the per-key rate limit.
describe('dependency outages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-ops-'));
  const logDir = join(stack().logDir, 'ops');
  const adminKey = `hrk_${randomBytes(20).toString('hex')}`;
  let ferret: Proc;
  let api: Proc;
  let mongoPort: number;

  beforeAll(async () => {
    mongoPort = await freePort();
    ferret = await startFerret({ port: mongoPort, dataDir: join(dir, 'ferretdb'), logDir });
    api = await startApi({
      env: { ...stack().env, MONGODB_URL: `mongodb://127.0.0.1:${mongoPort}/`, ADMIN_KEY: adminKey, API_RATE_LIMIT_PER_S: '2', API_RATE_LIMIT_BURST: '20', FANOUT_SWEEP_INTERVAL_MS: '60000' },
      logDir,
    });
  });
  afterAll(async () => {
    await api?.stop();
    await ferret?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/readyz goes 503 within seconds of FerretDB dying, requests get 503, and it heals without an API restart', async () => {
    const admin = client(adminKey, api.url);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    expect((await admin.post('/v1/event-types', { name: 'x.y' })).status).toBe(201);
    await ferret.kill('SIGKILL');
    const t0 = Date.now();
    await eventually(async () => (await fetch(`${api.url}/readyz`)).status === 503, 10_000, 200);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const body = await (await fetch(`${api.url}/readyz`)).json();
    expect(body.checks).toEqual({ mongodb: false, temporal: true });
    const res = await admin.post('/v1/events', { type: 'x.y', data: {} });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    expect(res.headers.get('retry-after')).toBeTruthy();

    ferret = await startFerret({ port: mongoPort, dataDir: join(dir, 'ferretdb'), logDir });
    await eventually(async () => (await fetch(`${api.url}/readyz`)).status === 200, 30_000, 200);
    expect((await admin.get('/v1/event-types/x.y')).status).toBe(200);
    // The request that got 503 left nothing behind.
    expect((await admin.get('/v1/events')).body.pagination.total).toBe(0);
  });

  it('rate-limits each key with 429 and retry-after', async () => {
    const admin = client(adminKey, api.url);
    let limited: { status: number; body: any; headers: Headers } | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const r = await admin.get('/v1/me');
      if (r.status === 429) limited = r;
    }
    expect(limited?.body.error.code).toBe('rate_limited');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
