import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hookrelay, HookrelayError, verifyWebhook } from '../../sdks/typescript/src/index.js';
import { eventually, newOrg, stack } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

// The SDK against the real stack.
let sdk: Hookrelay;
let sdkKey: string;
let rcv: Receiver;

beforeAll(async () => {
  const { admin } = await newOrg('sdk');
  sdkKey = admin.key;
  sdk = new Hookrelay({ apiKey: admin.key, baseUrl: stack().apiUrl });
  rcv = await startReceiver();
});
afterAll(() => rcv.close());

describe('SDK', () => {
  it('applications and application keys: hookrelay.applications.*, hookrelay.keys.*', async () => {
    await sdk.eventTypes.create({ name: 'sdk.app' });
    const app = await sdk.applications.upsert('sdk-cust', { name: 'SDK customer', metadata: { tier: 'gold' } });
    expect((await sdk.applications.upsert('sdk-cust', { name: 'SDK customer 2' })).id).toBe(app.id);
    const own = await startReceiver();
    const wh = await sdk.applications.createWebhook('sdk-cust', { url: own.url, events: ['sdk.app'] });
    expect(wh.application_id).toBe(app.id);
    const ev = await sdk.events.publish({ application: 'sdk-cust', type: 'sdk.app', data: { n: 7 } });
    expect(ev.deliveries).toBe(1);
    await eventually(async () => (await sdk.applications.deliveries('sdk-cust')).data.find((d) => d.status === 'delivered'));
    expect((await sdk.applications.webhooks(app.id)).data.map((w) => w.id)).toEqual([wh.id]);
    expect((await sdk.applications.stats('sdk-cust')).webhooks).toHaveLength(1);
    const key = await sdk.keys.create({ role: 'application', application: 'sdk-cust' });
    const scoped = new Hookrelay({ apiKey: key.key, baseUrl: stack().apiUrl });
    expect((await scoped.me()).key).toMatchObject({ role: 'application', application_id: app.id });
    expect((await scoped.webhooks.list()).data.map((w) => w.id)).toEqual([wh.id]);
    await expect(scoped.keys.list()).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    const portal = await sdk.applications.portalSession('sdk-cust', { expires_in: 600 });
    expect(portal.url).toMatch(/\/portal#token=hrk_/);
    expect((await new Hookrelay({ apiKey: portal.token, baseUrl: stack().apiUrl }).me()).key.application_id).toBe(app.id);
    await sdk.applications.endPortalSession('sdk-cust', portal.id);
    expect((await sdk.keys.list({ per_page: 100 })).data.some((k) => k.id === portal.id)).toBe(false);
    await sdk.keys.revoke(key.id);
    await sdk.applications.delete('sdk-cust');
    await expect(sdk.applications.get(app.id)).rejects.toMatchObject({ status: 404 });
    await own.close();
  });

  it('covers the publish → deliver → log flow, and a real delivery verifies with verifyWebhook', async () => {
    expect((await sdk.me()).key.role).toBe('admin');
    await sdk.eventTypes.create({ name: 'sdk.hello' });
    expect((await sdk.eventTypes.get('sdk.hello')).name).toBe('sdk.hello');
    const wh = await sdk.webhooks.create({ url: rcv.url, events: ['sdk.hello'] });
    const ev = await sdk.events.publish({ type: 'sdk.hello', data: { n: 1 } });
    expect(ev.deliveries).toBe(1);
    await rcv.waitFor(1);
    const got = rcv.received[0];
    expect(verifyWebhook(got.body, got.headers as Record<string, string>, wh.secret!)).toMatchObject({ id: ev.id, data: { n: 1 } });
    const d = await eventually(async () => (await sdk.webhooks.deliveries(wh.id)).data.find((x) => x.status === 'delivered'));
    expect((await sdk.deliveries.get(d.id)).attempts).toHaveLength(1);
    expect((await sdk.events.get(ev.id)).deliveries).toHaveLength(1);
    expect((await sdk.webhooks.stats(wh.id)).deliveries.delivered).toBe(1);
    expect((await sdk.webhooks.get(wh.id, { includeSecret: true })).secret).toBe(wh.secret);
    const test = await sdk.webhooks.test(wh.id);
    expect(test.status).toBe('delivered');
  });

  it('manages event types and webhooks through every endpoint', async () => {
    await sdk.eventTypes.create({ name: 'sdk.old', description: 'v1' });
    expect((await sdk.eventTypes.update('sdk.old', { description: 'v2', deprecated: true })).description).toBe('v2');
    const names = [];
    for await (const t of sdk.eventTypes.listAll()) names.push(t.name);
    expect(names).toEqual(expect.arrayContaining(['sdk.old', 'webhook.test']));
    expect((await sdk.eventTypes.list({ per_page: 1 })).pagination.per_page).toBe(1);
    await sdk.eventTypes.archive('sdk.old');
    expect(await sdk.events.publish({ type: 'sdk.old', data: {} }).catch((e) => e.code)).toBe('unknown_event_type');

    // register: the same uid is one webhook, replaced in place
    const first = await sdk.webhooks.register('sdk-customer', { url: rcv.url, events: ['sdk.hello'] });
    const again = await sdk.webhooks.register('sdk-customer', { url: rcv.url, events: ['sdk.hello'], description: 'again' });
    expect(again).toMatchObject({ id: first.id, description: 'again' });
    expect((await sdk.webhooks.list({ uid: 'sdk-customer' })).data.map((w) => w.id)).toEqual([first.id]);
    expect((await sdk.webhooks.update(first.id, { timeout_ms: 5000 })).timeout_ms).toBe(5000);

    // rotation: the next delivery carries signatures by the new and the previous secret
    const old = (await sdk.webhooks.get(first.id, { includeSecret: true })).secret!;
    const { secret } = await sdk.webhooks.rotateSecret(first.id);
    expect(secret).not.toBe(old);
    const d = await sdk.webhooks.test(first.id, { event_type: 'sdk.hello', data: { rotated: true } });
    const got = rcv.received.find((r) => r.headers['webhook-id'] === d.event_id)!;
    for (const s of [old, secret]) expect(verifyWebhook(got.body, got.headers as Record<string, string>, s)).toMatchObject({ data: { rotated: true } });

    const n = rcv.received.length;
    expect((await sdk.deliveries.retry(d.id)).status).toBe('pending');
    await rcv.waitFor(n + 1);
    expect(rcv.received[n].headers['webhook-id']).toBe(d.event_id);
    const listed = [];
    for await (const e of sdk.events.listAll({ type: 'sdk.hello' })) listed.push(e.id);
    expect(listed).toContain(d.event_id);
    expect((await sdk.events.list({ type: 'sdk.hello', per_page: 1 })).data).toHaveLength(1);

    await sdk.webhooks.delete(first.id);
    expect(await sdk.webhooks.get(first.id).catch((e) => e.code)).toBe('not_found');
  });

  it('a publish whose answer is lost is retried with the same idempotency key and stored once', async () => {
    await sdk.eventTypes.create({ name: 'sdk.lost' });
    const keys: string[] = [];
    let calls = 0;
    const lossy = new Hookrelay({
      apiKey: sdkKey,
      baseUrl: stack().apiUrl,
      fetch: async (input, init) => {
        keys.push(new Headers(init?.headers).get('idempotency-key')!);
        const res = await fetch(input, init);
        if (++calls === 1) throw new TypeError('fetch failed: socket hang up'); // applied, but the answer never arrives
        return res;
      },
    });
    const ev = await lossy.events.publish({ type: 'sdk.lost', data: { once: true } });
    expect(calls).toBe(2);
    expect(keys[0]).toBe(keys[1]);
    const stored = await sdk.events.list({ type: 'sdk.lost' });
    expect(stored.pagination.total).toBe(1);
    expect(stored.data[0].id).toBe(ev.id);
  });

  it('does not repeat an ambiguous POST without idempotency key, and a retried DELETE that already went through succeeds', async () => {
    let calls = 0;
    const down = new Hookrelay({ apiKey: 'x', baseUrl: 'http://example.invalid', fetch: async () => (calls++, Promise.reject(new TypeError('fetch failed'))) });
    expect(await down.webhooks.rotateSecret('wh_1').catch((e) => e)).toMatchObject({ code: 'network_error', status: 0 });
    expect(calls).toBe(1);
    let n = 0;
    const flaky = new Hookrelay({
      apiKey: 'x',
      baseUrl: 'http://example.invalid',
      fetch: async () => {
        if (n++ === 0) throw new TypeError('fetch failed');
        return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no' } }), { status: 404 });
      },
    });
    await expect(flaky.webhooks.delete('wh_1')).resolves.toBeUndefined();
    expect(n).toBe(2);
    const bad = await new Hookrelay({ apiKey: 'hrk_wrong', baseUrl: stack().apiUrl }).me().catch((e) => e);
    expect(bad).toMatchObject({ code: 'unauthenticated', status: 401 });
  });

  it('a publish with the same idempotency key is one event', async () => {
    const a = await sdk.events.publish({ type: 'sdk.hello', data: {} }, { idempotencyKey: 'sdk-once' });
    const b = await sdk.events.publish({ type: 'sdk.hello', data: {} }, { idempotencyKey: 'sdk-once' });
    expect(b.id).toBe(a.id);
    const batch = await sdk.events.publishBatch([{ type: 'sdk.hello', data: { i: 1 }, id: 'b-1' }, { type: 'sdk.hello', data: { i: 2 }, id: 'b-2' }]);
    const again = await sdk.events.publishBatch([{ type: 'sdk.hello', data: { i: 1 }, id: 'b-1' }]);
    expect(again.data[0].id).toBe(batch.data[0].id);
    // without ids: the batch's idempotency key and each event's index
    const keyed = [{ type: 'sdk.hello', data: { i: 3 } }, { type: 'sdk.hello', data: { i: 4 } }];
    const first = await sdk.events.publishBatch(keyed, { idempotencyKey: 'sdk-batch-once' });
    const repeat = await sdk.events.publishBatch(keyed, { idempotencyKey: 'sdk-batch-once' });
    expect(repeat.data.map((e) => e.id)).toEqual(first.data.map((e) => e.id));
  });

  it('throws typed errors with code, status and request id', async () => {
    const err = await sdk.webhooks.get('wh_missing').catch((e) => e);
    expect(err).toBeInstanceOf(HookrelayError);
    expect(err).toMatchObject({ code: 'not_found', status: 404 });
    expect(err.requestId).toMatch(/^req_/);
    const bad = await sdk.events.publish({ type: 'nope', data: {} }).catch((e) => e);
    expect(bad).toMatchObject({ code: 'unknown_event_type', status: 400 });
    expect(bad.details[0].path).toBe('type');
  });

  it('iterates over every page', async () => {
    for (let i = 0; i < 5; i++) await sdk.webhooks.create({ url: rcv.url, events: ['sdk.hello'], description: `page-${i}` });
    const all = [];
    for await (const wh of sdk.paginate('/v1/webhooks', { per_page: 2 })) all.push(wh);
    expect(all.length).toBeGreaterThanOrEqual(6);
    const viaListAll = [];
    for await (const wh of sdk.webhooks.listAll()) viaListAll.push(wh);
    expect(viaListAll.length).toBe(all.length);
  });

  it('waits for a recovery to complete, reporting progress', async () => {
    let up = false;
    const r = await startReceiver(() => ({ status: up ? 200 : 500 }));
    try {
      const wh = await sdk.webhooks.create({ url: r.url, events: ['sdk.hello'], retry_schedule: [] });
      const since = new Date().toISOString();
      await sdk.events.publish({ type: 'sdk.hello', data: {} });
      await eventually(async () => (await sdk.webhooks.deliveries(wh.id, { status: 'failed' })).data.length === 1);
      up = true;
      const rec = await sdk.webhooks.recover(wh.id, { since });
      const seen: string[] = [];
      const done = await sdk.waitForRecovery(wh.id, rec.id, { onProgress: (x) => seen.push(x.status) });
      expect(done).toMatchObject({ status: 'completed', recovered: 1 });
      expect(seen.at(-1)).toBe('completed');
      await r.waitFor(2);
    } finally {
      await r.close();
    }
  });

  it('retries 429 and 503 honouring retry-after, then succeeds', async () => {
    let calls = 0;
    const flaky = new Hookrelay({
      apiKey: 'x',
      baseUrl: 'http://example.invalid',
      fetch: async () => {
        calls++;
        if (calls === 1) return new Response('{}', { status: 429, headers: { 'retry-after': '1' } });
        if (calls === 2) return new Response('{}', { status: 503 });
        return new Response(JSON.stringify({ organization: { id: 'org_1', name: 'x' }, key: { id: 'key_1', role: 'admin' } }), { status: 200 });
      },
    });
    const started = Date.now();
    expect((await flaky.me()).organization.id).toBe('org_1');
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('loads nothing server-side: its runtime imports are its own files, signature.ts and node: built-ins', () => {
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      // `import type` is erased at runtime, so only value imports and re-exports count.
      for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)(?! type)[^;]*?from '([^']+)'/gms)) {
        const spec = m[1];
        if (spec.startsWith('node:')) continue;
        expect(spec, `${file} imports ${spec}`).toMatch(/^\./);
        walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    walk(resolve('sdks/typescript/src/index.ts'));
    expect([...seen].map((f) => f.slice(resolve('sdks/typescript/src').length + 1)).sort()).toEqual(['errors.ts', 'index.ts', 'types.ts', 'verify.ts']);
  });

  it('has a method for every operation of /openapi.json', async () => {
    // The SDK method of each operation; the test fails on an operation the API gained and the SDK lacks.
    const methods: Record<string, string> = {
      'GET /v1/me': 'me',
      'POST /v1/applications': 'applications.create', 'GET /v1/applications': 'applications.list',
      'PUT /v1/applications/uid/{uid}': 'applications.upsert', 'GET /v1/applications/{app}': 'applications.get',
      'PATCH /v1/applications/{app}': 'applications.update', 'DELETE /v1/applications/{app}': 'applications.delete',
      'GET /v1/applications/{app}/stats': 'applications.stats', 'GET /v1/applications/{app}/webhooks': 'applications.webhooks',
      'POST /v1/applications/{app}/webhooks': 'applications.createWebhook', 'GET /v1/applications/{app}/deliveries': 'applications.deliveries',
      'POST /v1/applications/{app}/portal-sessions': 'applications.portalSession', 'DELETE /v1/applications/{app}/portal-sessions/{id}': 'applications.endPortalSession',
      'POST /v1/keys': 'keys.create', 'GET /v1/keys': 'keys.list', 'GET /v1/keys/{id}': 'keys.get', 'DELETE /v1/keys/{id}': 'keys.revoke',
      'POST /v1/event-types': 'eventTypes.create', 'GET /v1/event-types': 'eventTypes.list', 'GET /v1/event-types/{name}': 'eventTypes.get',
      'PATCH /v1/event-types/{name}': 'eventTypes.update', 'DELETE /v1/event-types/{name}': 'eventTypes.archive',
      'POST /v1/webhooks': 'webhooks.create', 'PUT /v1/webhooks/uid/{uid}': 'webhooks.register', 'GET /v1/webhooks': 'webhooks.list',
      'GET /v1/webhooks/{id}': 'webhooks.get', 'PATCH /v1/webhooks/{id}': 'webhooks.update', 'DELETE /v1/webhooks/{id}': 'webhooks.delete',
      'POST /v1/webhooks/{id}/recover': 'webhooks.recover', 'GET /v1/webhooks/{id}/recoveries/{rcv_id}': 'webhooks.getRecovery',
      'POST /v1/webhooks/{id}/rotate-secret': 'webhooks.rotateSecret', 'POST /v1/webhooks/{id}/test': 'webhooks.test',
      'GET /v1/webhooks/{id}/stats': 'webhooks.stats', 'GET /v1/webhooks/{id}/deliveries': 'webhooks.deliveries',
      'POST /v1/events': 'events.publish', 'POST /v1/events/batch': 'events.publishBatch', 'GET /v1/events': 'events.list',
      'GET /v1/events/{id}': 'events.get', 'DELETE /v1/events/{id}/payload': 'events.erasePayload',
      'GET /v1/deliveries/{id}': 'deliveries.get', 'POST /v1/deliveries/{id}/retry': 'deliveries.retry',
    };
    const doc = await (await fetch(`${stack().apiUrl}/openapi.json`)).json();
    const operations = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter((op) => !methods[op])).toEqual([]);
    for (const op of operations) {
      const fn = methods[op].split('.').reduce((o: any, k) => o?.[k], sdk);
      expect(typeof fn, `${op} → ${methods[op]}`).toBe('function');
    }
  });
});
