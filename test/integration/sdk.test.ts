import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hookrelay, HookrelayError, verifyWebhook } from '../../src/sdk/index.js';
import { eventually, newOrg, stack } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

// The SDK against the real stack.
let sdk: Hookrelay;
let rcv: Receiver;

beforeAll(async () => {
  const { admin } = await newOrg('sdk');
  sdk = new Hookrelay({ apiKey: admin.key, baseUrl: stack().apiUrl });
  rcv = await startReceiver();
});
afterAll(() => rcv.close());

describe('SDK', () => {
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

  it('a publish with the same idempotency key is one event', async () => {
    const a = await sdk.events.publish({ type: 'sdk.hello', data: {} }, { idempotencyKey: 'sdk-once' });
    const b = await sdk.events.publish({ type: 'sdk.hello', data: {} }, { idempotencyKey: 'sdk-once' });
    expect(b.id).toBe(a.id);
    const batch = await sdk.events.publishBatch([{ type: 'sdk.hello', data: { i: 1 }, id: 'b-1' }, { type: 'sdk.hello', data: { i: 2 }, id: 'b-2' }]);
    const again = await sdk.events.publishBatch([{ type: 'sdk.hello', data: { i: 1 }, id: 'b-1' }]);
    expect(again.data[0].id).toBe(batch.data[0].id);
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
});
