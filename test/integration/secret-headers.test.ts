import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, newOrg, stack, testStore, type Client } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { openStore } from '../../src/storage/mongo.js';
import { createSealer, generateKey, keyId, parseKey } from '../../src/domain/seal.js';
import { resealAllWebhookSecrets, touchRevision, webhookRepo } from '../../src/storage/repos/webhooks.js';
import { asId, type OrgId, type WebhookId } from '../../src/domain/ids.js';
import type { WebhookDoc } from '../../src/storage/types.js';

// Credentials in a webhook's custom headers (issue 24, item 7) are secrets like the signing secret: sealed at rest,
// masked in every answer, never logged — and the endpoint still gets the real value. The credentials are
// `hdrcred_…`: test/logs/secrets.test.ts scans the whole suite's logs for that prefix too.
const MASK = '••••••••';
const cred = () => `hdrcred_${randomBytes(12).toString('hex')}`;

let admin: Client;
let orgId: OrgId;
let rcv: Receiver;

beforeAll(async () => {
  const o = await newOrg('secret-headers');
  admin = o.admin;
  orgId = o.org._id;
  rcv = await startReceiver();
  expect((await admin.post('/v1/event-types', { name: 'invoice.paid' })).status).toBe(201);
});
afterAll(() => rcv.close());

const raw = async (id: string) => (await testStore()).c.webhooks.findOne({ _id: id as WebhookId });
const rawHeader = (doc: WebhookDoc | null, name: string) => doc!.headers.find((h) => h.name === name)?.value;

/** Each webhook of this file has a URL of its own on the one receiver. */
const urlOf = (tag: string) => `${rcv.url}?w=${tag}`;

/** Publishes one event and returns the headers of the request the webhook tagged `tag` got for it. */
async function deliveredHeaders(tag: string): Promise<Record<string, unknown>> {
  const pub = await admin.post('/v1/events', { type: 'invoice.paid', data: { n: 1 } });
  expect(pub.status, JSON.stringify(pub.body)).toBe(202);
  const got = await eventually(async () => rcv.received.find((r) => r.headers['webhook-id'] === pub.body.id && r.path.endsWith(`?w=${tag}`)));
  return got.headers;
}

/** Every log file of the suite's stack (API, worker, Temporal, FerretDB). */
function logText(): string {
  const walk = (d: string): string[] => readdirSync(d).flatMap((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : [join(d, e)]));
  return walk(stack().logDir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(f, 'utf8')).join('\n');
}

describe('secret custom headers', () => {
  const auth = `Bearer ${cred()}`;
  const apiKey = cred();
  const marked = cred();
  let id: string;

  it('are sealed at rest, masked in lists and gets, in full only on purpose; the endpoint gets the real values', async () => {
    const created = await admin.post('/v1/webhooks', {
      url: urlOf('main'), events: ['invoice.paid'], retry_schedule: [],
      headers: { Authorization: auth, 'X-Api-Key': apiKey, 'X-Customer-Pin': marked, 'X-Tenant': '42' },
      secret_headers: ['x-customer-pin'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    id = created.body.id;
    expect(created.body.secret_headers.sort()).toEqual(['Authorization', 'X-Api-Key', 'X-Customer-Pin']);

    // At rest: ciphertext, the plaintext nowhere in the document; the plain header stays readable.
    const stored = await raw(id);
    for (const name of ['Authorization', 'X-Api-Key', 'X-Customer-Pin']) expect(rawHeader(stored, name)).toMatch(/^enc:v1:/);
    expect(rawHeader(stored, 'X-Tenant')).toBe('42');
    for (const v of [auth, apiKey, marked]) expect(JSON.stringify(stored)).not.toContain(v.replace('Bearer ', ''));

    // Answers: masked in a get and a list, in full with include_secret=true.
    const masked = { Authorization: MASK, 'X-Api-Key': MASK, 'X-Customer-Pin': MASK, 'X-Tenant': '42' };
    expect((await admin.get(`/v1/webhooks/${id}`)).body.headers).toEqual(masked);
    const listed = (await admin.get('/v1/webhooks?per_page=100')).body.data.find((w: any) => w.id === id);
    expect(listed.headers).toEqual(masked);
    expect((await admin.get(`/v1/webhooks/${id}?include_secret=true`)).body.headers).toEqual({ Authorization: auth, 'X-Api-Key': apiKey, 'X-Customer-Pin': marked, 'X-Tenant': '42' });

    // The endpoint receives the real values.
    const got = await deliveredHeaders('main');
    expect(got).toMatchObject({ authorization: auth, 'x-api-key': apiKey, 'x-customer-pin': marked, 'x-tenant': '42' });
  });

  it('a client that sends back what it read (masks) keeps the stored values; a change of another field leaves them', async () => {
    const read = (await admin.get(`/v1/webhooks/${id}`)).body;
    const patched = await admin.patch(`/v1/webhooks/${id}`, { headers: { ...read.headers, 'X-Tenant': '43' }, description: 'billing' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.headers).toEqual({ Authorization: MASK, 'X-Api-Key': MASK, 'X-Customer-Pin': MASK, 'X-Tenant': '43' });
    // The mark on X-Customer-Pin stayed (PATCH without secret_headers keeps the marks).
    expect(patched.body.secret_headers.sort()).toEqual(['Authorization', 'X-Api-Key', 'X-Customer-Pin']);
    expect(await admin.patch(`/v1/webhooks/${id}`, { description: 'billing, again' })).toMatchObject({ status: 200 });
    const stored = await raw(id);
    expect(rawHeader(stored, 'X-Customer-Pin')).toMatch(/^enc:v1:/);
    const got = await deliveredHeaders('main');
    expect(got).toMatchObject({ authorization: auth, 'x-api-key': apiKey, 'x-customer-pin': marked, 'x-tenant': '43' });

    // Registering by uid with the masks keeps them too.
    const reg = await admin.put('/v1/webhooks/uid/secret-headers-1', { url: urlOf('uid'), events: ['webhook.test'], headers: { Authorization: auth } });
    expect(reg.status).toBe(201);
    const again = await admin.put('/v1/webhooks/uid/secret-headers-1', { url: urlOf('uid'), events: ['webhook.test'], headers: { Authorization: MASK } });
    expect(again.status).toBe(200);
    expect((await admin.get(`/v1/webhooks/${reg.body.id}?include_secret=true`)).body.headers).toEqual({ Authorization: auth });
  });

  it('a mask with no stored secret behind it, or a mark on a header that is not there, is a 400 that changes nothing', async () => {
    const bad = await admin.patch(`/v1/webhooks/${id}`, { headers: { Authorization: MASK, 'X-New-Token': MASK } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: any) => d.path)).toEqual(['headers.X-New-Token']);
    const unknown = await admin.patch(`/v1/webhooks/${id}`, { secret_headers: ['X-Nope'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.map((d: any) => d.path)).toEqual(['secret_headers.0']);
    expect((await admin.post('/v1/webhooks', { url: urlOf('none'), headers: { Authorization: MASK } })).status).toBe(400);
    expect((await admin.get(`/v1/webhooks/${id}?include_secret=true`)).body.headers.Authorization).toBe(auth);
  });

  it('appear nowhere in the delivery log, the webhook with its recent deliveries, or the logs', async () => {
    const wh = await admin.get(`/v1/webhooks/${id}`);
    const deliveries = await admin.get(`/v1/webhooks/${id}/deliveries?per_page=100`);
    const one = await admin.get(`/v1/deliveries/${deliveries.body.data[0].id}`);
    const text = JSON.stringify([wh.body, deliveries.body, one.body]);
    // Logs are written asynchronously: give them a moment by reading after the answers above.
    const logs = logText();
    for (const v of [auth, apiKey, marked]) {
      const secretPart = v.replace('Bearer ', '');
      expect(text).not.toContain(secretPart);
      expect(logs).not.toContain(secretPart);
    }
  });
});

describe('the OpenAPI document', () => {
  it('has secret_headers on the webhook inputs and answer, and says how secret values are shown', async () => {
    const schemas = (await (await fetch(`${stack().apiUrl}/openapi.json`)).json()).components.schemas;
    for (const name of ['WebhookIn', 'WebhookPut', 'WebhookPatch', 'Webhook']) expect(schemas[name].properties.secret_headers, name).toBeTruthy();
    expect(schemas.Webhook.required).toContain('secret_headers');
    expect(schemas.Webhook.properties.headers.description).toContain(MASK);
  });
});

describe('secret header values stored in plaintext by an older version', () => {
  const legacyDoc = (id: string, org: OrgId, value: string): WebhookDoc => ({
    _id: asId('wh', id), org_id: org, application_id: null, uid: null, url: urlOf(id), description: '', events: ['invoice.paid'], channels: null, filter: null,
    // as an older version stored them: no `secret` mark, the value in plaintext
    headers: [{ name: 'Authorization', value }, { name: 'X-Tenant', value: '7' }],
    retry_schedule: [], timeout_ms: 5000, rate_limit_per_s: null, status: 'active', disabled_reason: null,
    secret: `whsec_${Buffer.from('a-legacy-secret-of-32-bytes-long').toString('base64')}`, previous_secret: null, previous_secret_expires_at: null,
    created_at: new Date(), updated_at: new Date(),
  });

  it('keep working (sent in full, shown masked) and are sealed by the next change of the webhook', async () => {
    const value = `Bearer ${cred()}`;
    const store = await testStore();
    const id = `wh_LEGACY${Date.now()}`;
    await store.c.webhooks.insertOne(legacyDoc(id, orgId, value));
    await touchRevision(store, orgId, 'rev');
    expect((await admin.get(`/v1/webhooks/${id}`)).body).toMatchObject({ headers: { Authorization: MASK, 'X-Tenant': '7' }, secret_headers: ['Authorization'] });
    const got = await deliveredHeaders(id);
    expect(got).toMatchObject({ authorization: value });
    expect(rawHeader(await raw(id), 'Authorization')).toBe(value);
    expect((await admin.patch(`/v1/webhooks/${id}`, { description: 'touched' })).status).toBe(200);
    const stored = await raw(id);
    expect(rawHeader(stored, 'Authorization')).toMatch(/^enc:v1:/);
    expect(JSON.stringify(stored)).not.toContain(value);
    expect((await admin.get(`/v1/webhooks/${id}?include_secret=true`)).body.headers).toEqual({ Authorization: value, 'X-Tenant': '7' });
    await admin.del(`/v1/webhooks/${id}`);
  });

  it('secrets reseal seals them, and moves sealed ones to a new key', async () => {
    // A database of its own: the running API keeps the suite's key.
    const k1 = parseKey(generateKey());
    const k2 = parseKey(generateKey());
    const db = `reseal_headers_${Date.now()}`;
    const org = asId('org', 'org_RESEALH');
    const before = await openStore(stack().mongoUrl, db, createSealer([k1]));
    const value = `Bearer ${cred()}`;
    await before.c.webhooks.insertOne(legacyDoc('wh_RESEALH1', org, value));
    await webhookRepo(before, org).insert({ ...legacyDoc('wh_RESEALH2', org, value), headers: [{ name: 'X-Pin', value: 'p1n', secret: true }] });
    const sealedByK1 = (await before.c.webhooks.findOne({ _id: asId('wh', 'wh_RESEALH2') }))!.headers[0].value;
    expect(createSealer([k1]).keyIdOf(sealedByK1)).toBe(keyId(k1));

    expect(await resealAllWebhookSecrets(before)).toEqual({ resealed: 1, total: 2 });
    const legacy = await before.c.webhooks.findOne({ _id: asId('wh', 'wh_RESEALH1') });
    expect(legacy!.headers).toEqual([{ name: 'Authorization', value: expect.stringMatching(/^enc:v1:/), secret: true }, { name: 'X-Tenant', value: '7', secret: false }]);

    const ring = await openStore(stack().mongoUrl, db, createSealer([k2, k1]));
    expect(await resealAllWebhookSecrets(ring)).toEqual({ resealed: 2, total: 2 });
    expect(await resealAllWebhookSecrets(ring)).toEqual({ resealed: 0, total: 2 });
    const onlyNew = await openStore(stack().mongoUrl, db, createSealer([k2]));
    const repo = webhookRepo(onlyNew, org);
    expect((await repo.get(asId('wh', 'wh_RESEALH1')))!.headers.map((h) => [h.name, h.value])).toEqual([['Authorization', value], ['X-Tenant', '7']]);
    expect((await repo.get(asId('wh', 'wh_RESEALH2')))!.headers.map((h) => [h.name, h.value])).toEqual([['X-Pin', 'p1n']]);
    await before.db.dropDatabase();
    for (const s of [before, ring, onlyNew]) await s.close();
  });
});
