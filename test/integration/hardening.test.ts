import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newOrg, stack, testStore, type Client } from '../support/api.js';
import { openStore } from '../../src/storage/mongo.js';
import { createSealer, generateKey, keyId, parseKey } from '../../src/domain/seal.js';
import { resealAllWebhookSecrets, webhookRepo } from '../../src/storage/repos/webhooks.js';
import { asId } from '../../src/domain/ids.js';

// Bad input gets a 4xx in the API's error shape and changes nothing: validated whole, before the first effect.
let admin: Client;
let whId: string;
const total = async (path: string) => (await admin.get(path)).body.pagination.total as number;

beforeAll(async () => {
  ({ admin } = await newOrg('hardening'));
  expect((await admin.post('/v1/event-types', { name: 'order.paid' })).status).toBe(201);
  expect((await admin.post('/v1/event-types', { name: 'order.schema', schema: { type: 'object', required: ['n'] } })).status).toBe(201);
  const wh = await admin.post('/v1/webhooks', { url: 'http://127.0.0.1:9/never', events: ['order.paid'], retry_schedule: [] });
  whId = wh.body.id;
});

const expect400 = (res: { status: number; body: any }, path?: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  if (path) expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
};

describe('timestamps are RFC 3339, strictly, everywhere', () => {
  it.each(['2026-01-01T00:00:00+99:99', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00+14:01', 'yesterday'])('publish with timestamp %s → 400, nothing stored', async (ts) => {
    const before = await total('/v1/events');
    expect400(await admin.post('/v1/events', { type: 'order.paid', data: {}, timestamp: ts }), 'timestamp');
    expect(await total('/v1/events')).toBe(before);
  });

  it('recover with an invalid since, or until before since → 400 and no recovery started', async () => {
    expect400(await admin.post(`/v1/webhooks/${whId}/recover`, { since: '2026-01-01T00:00:00+99:99' }), 'since');
    expect400(await admin.post(`/v1/webhooks/${whId}/recover`, { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }), 'until');
    expect((await admin.get(`/v1/webhooks/${whId}`)).body.status).toBe('active');
  });

  it('PATCH with a bad recover_since → 400 and the webhook is not resumed', async () => {
    expect((await admin.patch(`/v1/webhooks/${whId}`, { disabled: true })).body.status).toBe('disabled');
    expect400(await admin.patch(`/v1/webhooks/${whId}`, { disabled: false, recover_since: '2026-01-01T00:00:00+99:99' }), 'recover_since');
    expect((await admin.get(`/v1/webhooks/${whId}`)).body.status).toBe('disabled');
    expect((await admin.patch(`/v1/webhooks/${whId}`, { disabled: false })).body.status).toBe('active');
  });

  it('lists refuse until before since', async () => {
    expect400(await admin.get('/v1/events?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z'), 'until');
    expect400(await admin.get(`/v1/webhooks/${whId}/deliveries?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`), 'until');
  });
});

describe('a batch is all or nothing', () => {
  const deep = (n: number) => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = { a: v };
    return v;
  };
  const invalid: [string, (i: number) => Record<string, unknown>][] = [
    ['a bad timestamp', () => ({ type: 'order.paid', data: {}, timestamp: '2026-01-01T00:00:00+99:99' })],
    ['an unknown type', () => ({ type: 'order.nope', data: {} })],
    ['data failing the schema', () => ({ type: 'order.schema', data: {} })],
    ['data nested too deep', () => ({ type: 'order.paid', data: deep(200) })],
    ['an unknown field', () => ({ type: 'order.paid', data: {}, typo: 1 })],
  ];
  // Property style: a random invalid element at a random index of a random-length batch → 4xx, nothing stored.
  for (let round = 0; round < 8; round++) {
    const [what, make] = invalid[round % invalid.length];
    it(`round ${round}: ${what} at a random index → 400, no event of the batch stored`, async () => {
      const size = 2 + Math.floor(Math.random() * 9);
      const bad = Math.floor(Math.random() * size);
      const events = Array.from({ length: size }, (_, i) => (i === bad ? make(i) : { type: 'order.paid', data: { round, i }, id: `batch-${round}-${i}-${Date.now()}` }));
      const before = await total('/v1/events');
      const res = await admin.post('/v1/events/batch', { events });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(await total('/v1/events')).toBe(before);
    });
  }

  it('two elements with the same id → 400 naming the second, nothing stored', async () => {
    const before = await total('/v1/events');
    const id = `dup-${Date.now()}`;
    const res = await admin.post('/v1/events/batch', { events: [{ type: 'order.paid', data: {}, id }, { type: 'order.paid', data: {}, id }] });
    expect400(res, 'events.1.id');
    expect(await total('/v1/events')).toBe(before);
  });

  it('a batch retried with its idempotency-key stores nothing twice, even for elements without ids', async () => {
    const events = Array.from({ length: 4 }, (_, i) => ({ type: 'order.paid', data: { i } }));
    const key = `batch-key-${Date.now()}`;
    const first = await admin.post('/v1/events/batch', { events }, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const before = await total('/v1/events');
    const again = await admin.post('/v1/events/batch', { events }, { 'idempotency-key': key });
    expect(again.body.data.map((e: any) => e.id)).toEqual(first.body.data.map((e: any) => e.id));
    expect(await total('/v1/events')).toBe(before);
  });

  it('a publish retried after a crash between its outbox entry and its event is stored and delivered (not a 409)', async () => {
    // What a request that died half-way leaves: its key claimed for an event id, the outbox entry, no event.
    const store = await testStore();
    const me = (await admin.get('/v1/me')).body;
    const key = `crash-${Date.now()}`;
    const eventId = `evt_CRASH${Date.now()}`;
    await store.c.idempotency.insertOne({ _id: `${me.organization.id}:key:${key}`, org_id: me.organization.id, event_id: eventId as never, created_at: new Date() });
    await store.c.outbox.insertOne({ _id: eventId as never, org_id: me.organization.id, created_at: new Date() });
    const res = await admin.post('/v1/events', { type: 'order.paid', data: { retried: true } }, { 'idempotency-key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.id).toBe(eventId);
    expect((await admin.get(`/v1/events/${eventId}`)).body.deliveries).toHaveLength(1);
  });

  it('the same batch sent twice stores each element once (ids make a retry safe)', async () => {
    const tag = Date.now();
    const events = Array.from({ length: 5 }, (_, i) => ({ type: 'order.paid', data: { i }, id: `retry-${tag}-${i}` }));
    const first = await admin.post('/v1/events/batch', { events });
    expect(first.status).toBe(202);
    const before = await total('/v1/events');
    const again = await admin.post('/v1/events/batch', { events });
    expect(again.status).toBe(202);
    expect(again.body.data.map((e: any) => e.id)).toEqual(first.body.data.map((e: any) => e.id));
    expect(await total('/v1/events')).toBe(before);
  });
});

describe('request bodies', () => {
  it('event data nested 10,000 levels → 400 naming where, not a 500', async () => {
    const body = `{"type":"order.paid","data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const res = await admin.call('POST', '/v1/events', body);
    expect400(res);
    expect(res.body.error.message).toMatch(/deeper than 64/);
    expect(res.body.error.details[0].path).toMatch(/^data(\.0)+$/);
  });

  it('a JSON null body → 400', async () => {
    expect400(await admin.call('POST', '/v1/events', 'null'));
  });

  it('authentication comes before the body is read: no key + 8 MiB → 401', async () => {
    const res = await fetch(`${stack().apiUrl}/v1/events/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(8 * 1024 * 1024) });
    expect(res.status).toBe(401);
  });

  it('custom headers must be valid HTTP fields; URLs must not carry control characters and are stored normalised', async () => {
    const before = await total('/v1/webhooks');
    expect400(await admin.post('/v1/webhooks', { url: 'https://hooks.example.com/a', events: ['order.paid'], headers: { 'X-Token': 'a\u0000b' } }), 'headers.X-Token');
    expect400(await admin.post('/v1/webhooks', { url: 'https://hooks.example.com/a', events: ['order.paid'], headers: { 'X-Token': 'a\r\nX-Evil: 1' } }), 'headers.X-Token');
    expect400(await admin.post('/v1/webhooks', { url: 'https://hooks.example.com/a\r\nHost: evil', events: ['order.paid'] }), 'url');
    expect400(await admin.post('/v1/webhooks', { url: 'https://hooks.example.com/a b', events: ['order.paid'] }), 'url');
    expect(await total('/v1/webhooks')).toBe(before);
    const ok = await admin.post('/v1/webhooks', { url: 'HTTPS://Hooks.Example.COM:443/in', events: ['order.paid'] });
    expect(ok.status).toBe(201);
    expect(ok.body.url).toBe('https://hooks.example.com/in');
  });
});

describe('webhook secrets are sealed at rest', () => {
  it('the stored secret (and the previous one after a rotation) is ciphertext; the API still shows and signs with the plaintext', async () => {
    const secret = `whsec_${Buffer.from('a-known-secret-of-32-bytes-long!').toString('base64')}`;
    const wh = await admin.post('/v1/webhooks', { url: 'https://hooks.example.com/sealed', events: ['order.paid'], secret });
    expect(wh.status).toBe(201);
    const raw = async () => (await testStore()).c.webhooks.findOne({ _id: wh.body.id });
    const stored = await raw();
    expect(stored!.secret).toMatch(/^enc:v1:/);
    expect(JSON.stringify(stored)).not.toContain(secret.slice(6));
    expect((await admin.get(`/v1/webhooks/${wh.body.id}?include_secret=true`)).body.secret).toBe(secret);
    const rotated = await admin.post(`/v1/webhooks/${wh.body.id}/rotate-secret`, {});
    const after = await raw();
    expect(after!.secret).toMatch(/^enc:v1:/);
    expect(after!.previous_secret).toMatch(/^enc:v1:/);
    expect(JSON.stringify(after)).not.toContain(rotated.body.secret.slice(6));
  });

  it('after a key rotation, reseal moves every secret to the new key; the old key can then go', async () => {
    // A database of its own: the running API keeps the suite's key.
    const k1 = parseKey(generateKey());
    const k2 = parseKey(generateKey());
    const db = `reseal_${Date.now()}`;
    const before = await openStore(stack().mongoUrl, db, createSealer([k1]));
    const org = asId('org', 'org_RESEAL');
    const repo = webhookRepo(before, org);
    const doc = { _id: asId('wh', 'wh_RESEAL'), org_id: org, uid: null, url: 'https://x.example/', description: '', events: null, channels: null, filter: null, headers: [], retry_schedule: [], timeout_ms: 1000, rate_limit_per_s: null, status: 'active' as const, disabled_reason: null, secret: 'whsec_one', previous_secret: 'whsec_zero', previous_secret_expires_at: new Date(), created_at: new Date(), updated_at: new Date() };
    await repo.insert(doc);
    const ring = await openStore(stack().mongoUrl, db, createSealer([k2, k1]));
    expect(await resealAllWebhookSecrets(ring)).toEqual({ resealed: 1, total: 1 });
    expect(await resealAllWebhookSecrets(ring)).toEqual({ resealed: 0, total: 1 });
    const onlyNew = await openStore(stack().mongoUrl, db, createSealer([k2]));
    const opened = await webhookRepo(onlyNew, org).get(doc._id);
    expect(opened).toMatchObject({ secret: 'whsec_one', previous_secret: 'whsec_zero' });
    expect(createSealer([k2]).keyIdOf((await onlyNew.c.webhooks.findOne({ _id: doc._id }))!.secret)).toBe(keyId(k2));
    await before.db.dropDatabase();
    for (const s of [before, ring, onlyNew]) await s.close();
  });
});

describe('one tenant cannot stall the API with a regular expression', () => {
  it('^(a+)+$ in a filter and in a schema pattern: publishes answer fast and /healthz stays fast', async () => {
    expect((await admin.post('/v1/event-types', { name: 'redos.check', schema: { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } } })).status).toBe(201);
    expect((await admin.post('/v1/webhooks', { url: 'http://127.0.0.1:9/never', events: ['redos.check'], filter: { 'data.s': { $regex: '^(a+)+$' } }, retry_schedule: [] })).status).toBe(201);
    for (const n of [28, 40, 5000]) {
      const s = `${'a'.repeat(n)}!`;
      const health = (async () => {
        const t = performance.now();
        await fetch(`${stack().apiUrl}/healthz`);
        return performance.now() - t;
      })();
      const t0 = performance.now();
      const res = await admin.post('/v1/events', { type: 'redos.check', data: { s } });
      const ms = performance.now() - t0;
      expect(res.status, JSON.stringify(res.body)).toBe(400); // the schema's pattern does not match: a clean 400
      expect(ms, `publish with ${n} characters took ${ms} ms`).toBeLessThan(500);
      expect(await health).toBeLessThan(500);
    }
    // A value that matches passes the schema and is matched by the filter (RE2 has the same semantics here).
    const ok = await admin.post('/v1/events', { type: 'redos.check', data: { s: 'a'.repeat(5000) } });
    expect(ok.status).toBe(202);
    expect(ok.body.deliveries).toBe(1);
  });

  it('patterns RE2 cannot run in linear time are refused when saved', async () => {
    const t = await admin.post('/v1/event-types', { name: 'redos.backref', schema: { type: 'string', pattern: '^(a)\\1$' } });
    expect400(t, 'schema.pattern');
    const w = await admin.post('/v1/webhooks', { url: 'https://hooks.example.com/x', events: ['order.paid'], filter: { 'data.s': { $regex: '(?=x)' } } });
    expect400(w, 'filter');
  });
});
