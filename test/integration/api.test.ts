import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { client, eventually, newOrg, stack, testStore, type Client } from '../support/api.js';
import { createWebhookIndex } from '../../src/services/webhook-index.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

// The REST contract of docs/api.md: shapes, statuses and every error code, against the real stack.
let admin: Client;
let publisher: Client;
let other: Client;
let rcv: Receiver;

beforeAll(async () => {
  ({ admin, publisher } = await newOrg('api'));
  ({ admin: other } = await newOrg('other'));
  rcv = await startReceiver();
  for (const name of ['case.complete', 'case.requires_human_review']) await admin.post('/v1/event-types', { name });
});
afterAll(() => rcv.close());

const expectError = (res: { status: number; body: any; headers: Headers }, status: number, code: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.request_id).toMatch(/^req_/);
  expect(res.headers.get('x-request-id')).toBe(res.body.request_id);
};

describe('auth and organizations', () => {
  it('401 without or with an unknown key, 403 for a publisher on admin endpoints', async () => {
    expectError(await client('').get('/v1/me'), 401, 'unauthenticated');
    expectError(await client('hrk_nope').get('/v1/webhooks'), 401, 'unauthenticated');
    expectError(await publisher.get('/v1/webhooks'), 403, 'forbidden');
    expect((await publisher.get('/v1/event-types')).status).toBe(200);
  });

  it('GET /v1/me names the organization and key', async () => {
    const res = await admin.get('/v1/me');
    expect(res.status).toBe(200);
    expect(res.body.organization.id).toMatch(/^org_/);
    expect(res.body.key).toMatchObject({ role: 'admin' });
    expect(res.body.key.id).toMatch(/^key_/);
  });

  it("another organization's objects answer 404 on every resource", async () => {
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, events: ['case.complete'] });
    const { body: ev } = await admin.post('/v1/events', { type: 'case.complete', data: {} });
    const d = await eventually(async () => (await admin.get(`/v1/webhooks/${wh.id}/deliveries`)).body.data[0]);
    const rec = (await admin.post(`/v1/webhooks/${wh.id}/recover`, { since: new Date(0).toISOString() })).body;
    const probes: [string, string, unknown?][] = [
      ['GET', `/v1/webhooks/${wh.id}`], ['PATCH', `/v1/webhooks/${wh.id}`, { description: 'x' }], ['DELETE', `/v1/webhooks/${wh.id}`],
      ['POST', `/v1/webhooks/${wh.id}/rotate-secret`, {}], ['POST', `/v1/webhooks/${wh.id}/recover`, { since: new Date(0).toISOString() }],
      ['GET', `/v1/webhooks/${wh.id}/recoveries/${rec.id}`], ['POST', `/v1/webhooks/${wh.id}/test`, {}], ['GET', `/v1/webhooks/${wh.id}/stats`],
      ['GET', `/v1/webhooks/${wh.id}/deliveries`], ['GET', `/v1/deliveries/${d.id}`], ['POST', `/v1/deliveries/${d.id}/retry`, {}],
      ['GET', `/v1/events/${ev.id}`], ['GET', '/v1/event-types/case.complete'], ['PATCH', '/v1/event-types/case.complete', { description: 'x' }],
      ['DELETE', '/v1/event-types/case.complete'],
    ];
    for (const [method, path, body] of probes) expectError(await other.call(method, path, body), 404, 'not_found');
    expect((await other.get('/v1/webhooks')).body.data).toEqual([]);
    expect((await other.get('/v1/events')).body.data).toEqual([]);
    // Publishing a type that exists only in the other org is unknown here, and nothing was changed there.
    expectError(await other.post('/v1/events', { type: 'case.complete', data: {} }), 400, 'unknown_event_type');
    expect((await admin.get(`/v1/webhooks/${wh.id}`)).status).toBe(200);
    expect((await admin.get('/v1/event-types/case.complete')).body.archived).toBe(false);
  });
});

describe('event types', () => {
  it('creates, lists, conflicts, validates schemas, deprecates and archives', async () => {
    expectError(await admin.post('/v1/event-types', { name: 'case.complete' }), 409, 'conflict');
    expectError(await admin.post('/v1/event-types', { name: 'bad name!' }), 400, 'validation_failed');
    const schema = { type: 'object', required: ['call_id'], properties: { call_id: { type: 'string' }, duration_seconds: { type: 'integer' } } };
    expect((await admin.post('/v1/event-types', { name: 'call.completed', schema })).status).toBe(201);
    const bad = await admin.post('/v1/events', { type: 'call.completed', data: { duration_seconds: 'long' } });
    expectError(bad, 400, 'validation_failed');
    expect(bad.body.error.details.map((d: any) => d.path)).toEqual(expect.arrayContaining(['data', 'data.duration_seconds']));
    expect((await admin.post('/v1/events', { type: 'call.completed', data: { call_id: 'c1' } })).status).toBe(202);

    await admin.post('/v1/event-types', { name: 'RESPONDER_ACKNOWLEDGED_CALLOUT' });
    await admin.post('/v1/event-types', { name: 'RESPONDER_ACKNOWLEDGED_CALLOUT_WITH_ETA', deprecated: true, replaced_by: 'RESPONDER_ACKNOWLEDGED_CALLOUT' });
    const dep = await admin.post('/v1/webhooks', { url: rcv.url, events: ['RESPONDER_ACKNOWLEDGED_CALLOUT_WITH_ETA'] });
    expect(dep.status).toBe(201);
    expect(dep.headers.get('deprecation')).toContain('RESPONDER_ACKNOWLEDGED_CALLOUT');
    const depPub = await admin.post('/v1/events', { type: 'RESPONDER_ACKNOWLEDGED_CALLOUT_WITH_ETA', data: {} });
    expect(depPub.status).toBe(202);
    expect(depPub.headers.get('deprecation')).toBeTruthy();

    expect((await admin.post('/v1/event-types', { name: 'old.thing' })).status).toBe(201);
    expect((await admin.del('/v1/event-types/old.thing')).status).toBe(204);
    expectError(await admin.post('/v1/events', { type: 'old.thing', data: {} }), 400, 'unknown_event_type');
    expectError(await admin.post('/v1/webhooks', { url: rcv.url, events: ['old.thing'] }), 400, 'unknown_event_type');
    expectError(await admin.del('/v1/event-types/webhook.test'), 409, 'conflict');
    const list = await admin.get('/v1/event-types?per_page=100');
    const names = list.body.data.map((t: any) => t.name);
    expect(names).toContain('webhook.test');
    expect(names).not.toContain('old.thing');
  });
});

describe('webhooks', () => {
  it('a change made through one API process is matched by the next publish of another (per-organization revision)', async () => {
    // A second index over the same database stands for another API process with its own webhook cache.
    const index = createWebhookIndex(await testStore());
    const { org, admin: a } = await newOrg('revision');
    await a.post('/v1/event-types', { name: 'case.complete' });
    expect(await index.all(org._id)).toEqual([]);
    const { body: wh } = await a.post('/v1/webhooks', { url: rcv.url, events: ['case.complete'] });
    expect((await index.all(org._id)).map((w) => w._id)).toEqual([wh.id]);
    await a.patch(`/v1/webhooks/${wh.id}`, { events: ['*'] });
    expect((await index.all(org._id))[0].events).toEqual(['*']);
    await a.patch(`/v1/webhooks/${wh.id}`, { disabled: true });
    expect((await index.all(org._id)).map((w) => w.status)).toEqual(['disabled']);
    await a.patch(`/v1/webhooks/${wh.id}`, { disabled: false });
    expect((await index.all(org._id)).map((w) => w.status)).toEqual(['active']);
    await a.del(`/v1/webhooks/${wh.id}`);
    expect(await index.all(org._id)).toEqual([]);
    // Registration by uid: creating and replacing.
    await a.put('/v1/webhooks/uid/src-1', { url: rcv.url, events: ['case.complete'] });
    expect((await index.all(org._id)).map((w) => w.events)).toEqual([['case.complete']]);
    await a.put('/v1/webhooks/uid/src-1', { url: rcv.url, events: ['*'] });
    expect((await index.all(org._id)).map((w) => w.events)).toEqual([['*']]);
  });

  it('shows the secret once, then null unless include_secret=true', async () => {
    const res = await admin.post('/v1/webhooks', { url: rcv.url, events: ['case.complete', 'case.requires_human_review'] });
    expect(res.status).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_/);
    expect(res.body).toMatchObject({ status: 'active', health_status: 'unknown', retry_schedule: ['1m', '5m', '15m', '1h', '4h', '8h', '10h'], timeout_ms: 15000 });
    expect(res.body.id).toMatch(/^wh_/);
    const list = await admin.get('/v1/webhooks');
    expect(list.body.data.every((w: any) => w.secret === null)).toBe(true);
    expect((await admin.get(`/v1/webhooks/${res.body.id}`)).body.secret).toBeNull();
    expect((await admin.get(`/v1/webhooks/${res.body.id}?include_secret=true`)).body.secret).toBe(res.body.secret);
    expect((await admin.post('/v1/webhooks', { url: rcv.url, secret: 'my-own-secret-of-at-least-24-chars' })).body.secret).toBe('my-own-secret-of-at-least-24-chars');
    expectError(await admin.post('/v1/webhooks', { url: rcv.url, secret: 'short' }), 400, 'validation_failed');
  });

  it('rejects bad input with details and changes nothing', async () => {
    const before = (await admin.get('/v1/webhooks')).body.pagination.total;
    const cases: [unknown, string, string?][] = [
      [{}, 'validation_failed'],
      [{ url: 'ftp://example.com/x' }, 'validation_failed', 'url'],
      [{ url: 'not a url' }, 'validation_failed', 'url'],
      [{ url: 'https://example.com/' + 'a'.repeat(2100) }, 'validation_failed', 'url'],
      [{ url: rcv.url, unknown_field: 1 }, 'validation_failed'],
      [{ url: rcv.url, events: ['nope.never'] }, 'unknown_event_type', 'events.0'],
      [{ url: rcv.url, headers: { 'webhook-id': 'x' } }, 'validation_failed', 'headers.webhook-id'],
      [{ url: rcv.url, headers: { 'Content-Type': 'text/plain' } }, 'validation_failed', 'headers.Content-Type'],
      [{ url: rcv.url, retry_schedule: ['0s'] }, 'validation_failed', 'retry_schedule.0'],
      [{ url: rcv.url, retry_schedule: ['25h'] }, 'validation_failed', 'retry_schedule.0'],
      [{ url: rcv.url, filter: { 'data.x': { $nope: 1 } } }, 'validation_failed', 'filter'],
      // $where would run customer JavaScript inside the API process.
      [{ url: rcv.url, filter: { $where: 'globalThis.__pwned = true' } }, 'validation_failed', 'filter'],
      [{ url: rcv.url, filter: { data: { $elemMatch: { $where: 'globalThis.__pwned = true' } } } }, 'validation_failed', 'filter'],
      [{ url: rcv.url, timeout_ms: 5 }, 'validation_failed', 'timeout_ms'],
    ];
    for (const [body, code, path] of cases) {
      const res = await admin.post('/v1/webhooks', body);
      expectError(res, 400, code);
      if (path) expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
    }
    expect((await admin.get('/v1/webhooks')).body.pagination.total).toBe(before);
  });

  it('PUT /v1/webhooks/uid/{uid} creates (201) then replaces (200), keeping the secret unless given', async () => {
    const first = await admin.put('/v1/webhooks/uid/customer-42', { url: rcv.url, events: ['case.complete'], headers: { Authorization: 'Bearer a' }, retry_schedule: [] });
    expect(first.status).toBe(201);
    expect(first.body.uid).toBe('customer-42');
    const again = await admin.put('/v1/webhooks/uid/customer-42', { url: rcv.url + '?v=2', events: ['case.requires_human_review'], headers: { Authorization: 'Bearer b' } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    // The Authorization value is a secret header's: masked in the answer, in full only when asked for.
    expect(again.body).toMatchObject({ url: rcv.url + '?v=2', events: ['case.requires_human_review'], headers: { Authorization: '••••••••' }, secret_headers: ['Authorization'], secret: null });
    expect((await admin.get(`/v1/webhooks/${first.body.id}?include_secret=true`)).body).toMatchObject({ secret: first.body.secret, headers: { Authorization: 'Bearer b' } });
    const list = await admin.get('/v1/webhooks?uid=customer-42');
    expect(list.body.pagination.total).toBe(1);
    expectError(await admin.post('/v1/webhooks', { url: rcv.url, uid: 'customer-42' }), 409, 'conflict');
    // Deleting frees the uid; registering again creates a new webhook.
    expect((await admin.del(`/v1/webhooks/${first.body.id}`)).status).toBe(204);
    const fresh = await admin.put('/v1/webhooks/uid/customer-42', { url: rcv.url });
    expect(fresh.status).toBe(201);
    expect(fresh.body.id).not.toBe(first.body.id);
  });

  it('concurrent registrations of one uid leave one webhook', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => admin.put('/v1/webhooks/uid/race-7', { url: `${rcv.url}?n=${i}` })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect((await admin.get('/v1/webhooks?uid=race-7')).body.pagination.total).toBe(1);
    // Moving a uid to another webhook is refused while it is held, allowed once released.
    const { body: other } = await admin.post('/v1/webhooks', { url: rcv.url });
    expectError(await admin.patch(`/v1/webhooks/${other.id}`, { uid: 'race-7' }), 409, 'conflict');
    expect((await admin.patch(`/v1/webhooks/${results[0].body.id}`, { uid: 'race-8' })).status).toBe(200);
    expect((await admin.patch(`/v1/webhooks/${other.id}`, { uid: 'race-7' })).body.uid).toBe('race-7');
  });

  it('rotate-secret signs with both secrets for the overlap', async () => {
    const own = await startReceiver();
    const before = 0;
    const rcv = own;
    const { body: wh } = await admin.post('/v1/webhooks', { url: own.url, events: ['case.requires_human_review'] });
    const rot = await admin.post(`/v1/webhooks/${wh.id}/rotate-secret`, {});
    expect(rot.status).toBe(200);
    expect(rot.body.secret).toMatch(/^whsec_/);
    expect(rot.body.secret).not.toBe(wh.secret);
    await admin.post('/v1/events', { type: 'case.requires_human_review', data: { case_id: 'r' } });
    await eventually(async () => rcv.received.slice(before).find((r) => JSON.parse(r.body).data?.case_id === 'r'));
    const got = rcv.received.slice(before).find((r) => JSON.parse(r.body).data?.case_id === 'r')!;
    const sigs = String(got.headers['webhook-signature']).split(' ');
    expect(sigs).toHaveLength(2);
    const h = { 'webhook-id': String(got.headers['webhook-id']), 'webhook-timestamp': String(got.headers['webhook-timestamp']), 'webhook-signature': String(got.headers['webhook-signature']) };
    expect(() => new StandardWebhook(wh.secret).verify(got.body, h)).not.toThrow();
    expect(() => new StandardWebhook(rot.body.secret).verify(got.body, h)).not.toThrow();
    await own.close();
  });

  it('lists with filters and pagination; stats and health', async () => {
    const { admin: a } = await newOrg('paging');
    await a.post('/v1/event-types', { name: 'x.y' });
    for (let i = 0; i < 5; i++) await a.post('/v1/webhooks', { url: rcv.url, events: ['x.y'] });
    const p1 = await a.get('/v1/webhooks?page=1&per_page=2');
    expect(p1.body.pagination).toEqual({ page: 1, per_page: 2, total: 5, has_more: true });
    const p3 = await a.get('/v1/webhooks?page=3&per_page=2');
    expect(p3.body.data).toHaveLength(1);
    expect(p3.body.pagination.has_more).toBe(false);
    expectError(await a.get('/v1/webhooks?per_page=101'), 400, 'validation_failed');
    const { body: wh } = p1;
    await a.patch(`/v1/webhooks/${wh.data[0].id}`, { disabled: true });
    expect((await a.get('/v1/webhooks?status=disabled')).body.pagination.total).toBe(1);
    await a.post('/v1/events', { type: 'x.y', data: {} });
    // The health summary is written within a second of the attempt (services/health.ts).
    const stats = await eventually(async () => {
      const s = (await a.get(`/v1/webhooks/${wh.data[1].id}/stats?window=1h`)).body;
      return s.deliveries.delivered === 1 && s.health_status !== 'unknown' && s;
    });
    expect(stats).toMatchObject({ success_rate: 1, health_status: 'healthy' });
    expect(stats.latency_ms.p50).toBeGreaterThanOrEqual(0);
    expectError(await a.get(`/v1/webhooks/${wh.data[1].id}/stats?window=forever`), 400, 'validation_failed');
    const got = (await a.get(`/v1/webhooks/${wh.data[1].id}`)).body;
    expect(got.health_status).toBe('healthy');
    expect(got.recent_deliveries[0].attempts[0].status_code).toBe(200);
  });

  it('max_in_flight: an integer 1..1000, or null for the default; anything else is a 400 naming it and changes nothing', async () => {
    const created = await admin.post('/v1/webhooks', { url: rcv.url, max_in_flight: 5 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.max_in_flight).toBe(5);
    const id = created.body.id;
    expect((await admin.get(`/v1/webhooks/${id}`)).body.max_in_flight).toBe(5);
    expect((await admin.get('/v1/webhooks?per_page=100')).body.data.find((w: any) => w.id === id).max_in_flight).toBe(5);
    expect((await admin.post('/v1/webhooks', { url: rcv.url })).body.max_in_flight).toBeNull();

    const total = (await admin.get('/v1/webhooks')).body.pagination.total;
    const stored = (await admin.get(`/v1/webhooks/${id}`)).body;
    for (const bad of [0, 1001, 2.5, 'x', -1, true]) {
      for (const res of [
        await admin.post('/v1/webhooks', { url: rcv.url, max_in_flight: bad }),
        await admin.put('/v1/webhooks/uid/max-in-flight-bad', { url: rcv.url, max_in_flight: bad }),
        await admin.patch(`/v1/webhooks/${id}`, { max_in_flight: bad }),
      ]) {
        expectError(res, 400, 'validation_failed');
        expect(res.body.error.details.map((d: any) => d.path), JSON.stringify(bad)).toContain('max_in_flight');
      }
    }
    expect((await admin.get('/v1/webhooks')).body.pagination.total).toBe(total);
    expect((await admin.get(`/v1/webhooks/${id}`)).body).toMatchObject({ max_in_flight: 5, updated_at: stored.updated_at });

    expect((await admin.patch(`/v1/webhooks/${id}`, { max_in_flight: 1000 })).body.max_in_flight).toBe(1000);
    expect((await admin.patch(`/v1/webhooks/${id}`, { description: 'other field' })).body.max_in_flight).toBe(1000);
    const cleared = await admin.patch(`/v1/webhooks/${id}`, { max_in_flight: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.max_in_flight).toBeNull();
    expect((await admin.get(`/v1/webhooks/${id}`)).body.max_in_flight).toBeNull();

    // PUT by uid replaces: a field left out returns to its default.
    expect((await admin.put('/v1/webhooks/uid/max-in-flight-1', { url: rcv.url, max_in_flight: 1 })).body.max_in_flight).toBe(1);
    expect((await admin.put('/v1/webhooks/uid/max-in-flight-1', { url: rcv.url })).body.max_in_flight).toBeNull();
  });

  it("a delivery presents waiting {reason, since} while its next attempt waits for room to be sent, else null", async () => {
    const { admin: a } = await newOrg('waiting');
    await a.post('/v1/event-types', { name: 'w.x' });
    const failing = await startReceiver(() => ({ status: 500 }));
    try {
      const { body: wh } = await a.post('/v1/webhooks', { url: failing.url, retry_schedule: ['1h'] });
      await a.post('/v1/events', { type: 'w.x', data: {} });
      // Pending, its first attempt recorded, the next one an hour away: nothing else writes it meanwhile.
      const d = await eventually(async () => {
        const first = (await a.get(`/v1/webhooks/${wh.id}/deliveries`)).body.data[0];
        return first?.status === 'pending' && first.status_code === 500 && first.next_attempt_at && first;
      });
      expect(d.waiting).toBeNull();
      const store = await testStore();
      const since = new Date('2026-01-02T03:04:05.678Z');
      for (const reason of ['endpoint_in_flight', 'application_share', 'worker_capacity'] as const) {
        await store.c.deliveries.updateOne({ _id: d.id }, { $set: { waiting: { reason, since } } });
        expect((await a.get(`/v1/deliveries/${d.id}`)).body.waiting).toEqual({ reason, since: since.toISOString() });
      }
      expect((await a.get(`/v1/webhooks/${wh.id}/deliveries`)).body.data[0].waiting).toEqual({ reason: 'worker_capacity', since: since.toISOString() });
      await store.c.deliveries.updateOne({ _id: d.id }, { $set: { waiting: null } });
      expect((await a.get(`/v1/deliveries/${d.id}`)).body.waiting).toBeNull();
      await store.c.deliveries.updateOne({ _id: d.id }, { $unset: { waiting: '' } });
      expect((await a.get(`/v1/deliveries/${d.id}`)).body.waiting).toBeNull();
    } finally {
      await failing.close();
    }
  });

  it('recover_since only goes with disabled: false', async () => {
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url });
    expectError(await admin.patch(`/v1/webhooks/${wh.id}`, { recover_since: new Date().toISOString() }), 400, 'validation_failed');
  });
});

describe('events and conventions', () => {
  it('publishes a batch all-or-nothing', async () => {
    const ok = await admin.post('/v1/events/batch', { events: [{ type: 'case.complete', data: { n: 1 } }, { type: 'case.complete', data: { n: 2 } }] });
    expect(ok.status).toBe(202);
    expect(ok.body.data).toHaveLength(2);
    const total = (await admin.get('/v1/events')).body.pagination.total;
    const bad = await admin.post('/v1/events/batch', { events: [{ type: 'case.complete', data: {} }, { type: 'nope', data: {} }] });
    expectError(bad, 400, 'unknown_event_type');
    expect(bad.body.error.details[0].path).toBe('events.1.type');
    expect((await admin.get('/v1/events')).body.pagination.total).toBe(total);
  });

  it('lists events and gets one with its deliveries', async () => {
    const pub = await publisher.post('/v1/events', { type: 'case.complete', data: { case_id: 'list' } });
    expect(pub.status).toBe(202);
    const one = await admin.get(`/v1/events/${pub.body.id}`);
    expect(one.body).toMatchObject({ id: pub.body.id, type: 'case.complete', data: { case_id: 'list' } });
    expect(Array.isArray(one.body.deliveries)).toBe(true);
    const list = await admin.get('/v1/events?type=case.complete&per_page=1');
    expect(list.body.data).toHaveLength(1);
  });

  it('413 past the body limit, 415 for non-JSON, 400 for malformed JSON and unknown fields', async () => {
    const big = { type: 'case.complete', data: { blob: 'x'.repeat(300 * 1024) } };
    expectError(await admin.post('/v1/events', big), 413, 'payload_too_large');
    expectError(await admin.call('POST', '/v1/events', 'type=x', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
    expectError(await admin.call('POST', '/v1/events', '{"type":', { 'content-type': 'application/json' }), 400, 'validation_failed');
    const unknown = await admin.post('/v1/events', { type: 'case.complete', data: {}, tpye: 'typo' });
    expectError(unknown, 400, 'validation_failed');
    expect(unknown.body.error.details[0].message).toContain('tpye');
    expectError(await admin.get('/v1/nothing-here'), 404, 'not_found');
  });

  it('operations endpoints', async () => {
    const base = stack().apiUrl;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { mongodb: true, temporal: true } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('hookrelay_http_request_duration_seconds');
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/webhooks', '/v1/webhooks/{id}', '/v1/events', '/v1/webhooks/uid/{uid}', '/v1/deliveries/{id}/retry']));
    const docs = await fetch(`${base}/docs`);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('/v1/webhooks/{id}/recover');
  });
});
