import { beforeAll, describe, expect, it } from 'vitest';
import { newOrg, stack, type Client } from '../support/api.js';

// Issue 24 (hardening, second round): bad input gets a 4xx in the API's error shape and changes nothing.
let admin: Client;
const total = async (path: string) => (await admin.get(path)).body.pagination.total as number;

/** Sends exactly these bytes (fetch would re-encode a string as UTF-8). */
async function raw(method: string, path: string, body: Buffer | string, contentType = 'application/json') {
  const res = await fetch(`${stack().apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin.key}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const bytes = (s: string) => Buffer.from(s, 'latin1');

const expect400 = (res: { status: number; body: any }, path: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  expect(res.body.request_id).toMatch(/^req_/);
  expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
};

beforeAll(async () => {
  ({ admin } = await newOrg('hardening-2'));
  expect((await admin.post('/v1/event-types', { name: 'utf.check' })).status).toBe(201);
  expect((await admin.put('/v1/applications/uid/known', { name: 'Known' })).status).toBe(201);
});

describe('a body that is not valid UTF-8 is refused, naming where (item 4)', () => {
  it('an event with \\xff\\xfe in a string → 400 naming data.s, no event stored', async () => {
    const before = await total('/v1/events');
    const res = await raw('POST', '/v1/events', bytes('{"type":"utf.check","data":{"n":1,"s":"ok\xff\xfe"}}'));
    expect400(res, 'data.s');
    expect(res.body.error.message).toMatch(/UTF-8/);
    expect(await total('/v1/events')).toBe(before);
  });

  it('a webhook description with invalid bytes → 400 naming description, no webhook stored', async () => {
    const before = await total('/v1/webhooks');
    expect400(await raw('POST', '/v1/webhooks', bytes('{"url":"http://127.0.0.1:9/x","description":"caf\xe9"}')), 'description');
    // Overlong encodings and encoded surrogates are not UTF-8 either.
    expect400(await raw('POST', '/v1/webhooks', bytes('{"url":"http://127.0.0.1:9/x","description":"\xc0\xaf"}')), 'description');
    expect400(await raw('POST', '/v1/webhooks', bytes('{"url":"http://127.0.0.1:9/x","description":"\xed\xa0\x80"}')), 'description');
    expect(await total('/v1/webhooks')).toBe(before);
  });

  it('an element of a batch → 400 naming events.<i>, nothing stored', async () => {
    const before = await total('/v1/events');
    const res = await raw('POST', '/v1/events/batch', bytes('{"events":[{"type":"utf.check","data":{}},{"type":"utf.check","data":{"a":["x","\xf8"]}}]}'));
    expect400(res, 'events.1.data.a.1');
    expect(await total('/v1/events')).toBe(before);
  });

  it('a lone surrogate escape ("\\ud800") is refused too: it cannot be stored as sent', async () => {
    const before = await total('/v1/events');
    expect400(await raw('POST', '/v1/events', '{"type":"utf.check","data":{"s":"x\\ud800y"}}'), 'data.s');
    expect(await total('/v1/events')).toBe(before);
  });

  it('valid UTF-8 and escaped pairs are stored exactly as sent', async () => {
    const res = await raw('POST', '/v1/events', Buffer.from('{"type":"utf.check","data":{"s":"café ✓ 😀","e":"\\ud83d\\ude00"}}', 'utf8'));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await admin.get(`/v1/events/${res.body.id}`)).body.data).toEqual({ s: 'café ✓ 😀', e: '😀' });
  });
});

describe('contract mismatches (item 9)', () => {
  it('a batch element naming an unknown application → 400 naming events.<i>.application, nothing stored', async () => {
    const before = await total('/v1/events');
    const events = [
      { type: 'utf.check', data: {}, application: 'known' },
      { type: 'utf.check', data: {} },
      { type: 'utf.check', data: {}, application: 'nobody-by-that-uid' },
    ];
    const res = await admin.post('/v1/events/batch', { events });
    expect400(res, 'events.2.application');
    expect(await total('/v1/events')).toBe(before);
    // A single publish naming one is still 404, as documented.
    expect((await admin.post('/v1/events', { type: 'utf.check', data: {}, application: 'app_nope' })).status).toBe(404);
  });

  it.each(['application/json-patch+json', 'application/merge-patch+json', 'application/vnd.api+json', 'text/json'])('a %s body → 415, nothing stored', async (type) => {
    const before = await total('/v1/events');
    const res = await raw('POST', '/v1/events', '{"type":"utf.check","data":{}}', type);
    expect(res.status, JSON.stringify(res.body)).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(await total('/v1/events')).toBe(before);
  });

  it('application/json with a charset parameter is JSON', async () => {
    expect((await raw('POST', '/v1/events', '{"type":"utf.check","data":{}}', 'application/json; charset=utf-8')).status).toBe(202);
  });
});

describe('validating an event against its schema has a bounded cost, off the event loop (item 3)', () => {
  // 3 branches per level, 24 levels of $ref: 3^24 subschemas for one number that matches none of them.
  const defs: Record<string, unknown> = { d24: { type: 'integer' } };
  for (let i = 0; i < 24; i++) defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }, { type: 'string' }] };
  const costly = { $defs: defs, type: 'object', properties: { v: { $ref: '#/$defs/d0' } } };

  beforeAll(async () => {
    expect((await admin.post('/v1/event-types', { name: 'cost.unique', schema: { type: 'object', properties: { a: { type: 'array', uniqueItems: true } } } })).status).toBe(201);
    expect((await admin.post('/v1/event-types', { name: 'cost.enum', schema: { type: 'array', items: { enum: Array.from({ length: 5000 }, (_, i) => `v${i}`) } } })).status).toBe(201);
    const res = await admin.post('/v1/event-types', { name: 'cost.exponential', schema: costly });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });

  it('uniqueItems over 40,000 integers (229 KB) is validated: 202 when unique, 400 naming the duplicate when not', async () => {
    const a = Array.from({ length: 40_000 }, (_, i) => i);
    expect((await admin.post('/v1/events', { type: 'cost.unique', data: { a } })).status).toBe(202);
    const before = await total('/v1/events');
    const res = await admin.post('/v1/events', { type: 'cost.unique', data: { a: [...a, 39_999] } });
    expect400(res, 'data.a');
    expect(res.body.error.details[0].message).toMatch(/duplicate items/);
    expect(await total('/v1/events')).toBe(before);
  });

  it('30,000 values against a 5,000-member enum are validated', async () => {
    expect((await admin.post('/v1/events', { type: 'cost.enum', data: Array.from({ length: 30_000 }, (_, i) => `v${i % 5000}`) })).status).toBe(202);
    expect400(await admin.post('/v1/events', { type: 'cost.enum', data: ['v1', 'nope'] }), 'data.1');
  });

  it('data too costly to validate → 400 naming it, nothing stored; /healthz answers meanwhile', async () => {
    const before = await total('/v1/events');
    const publishing = admin.post('/v1/events', { type: 'cost.exponential', data: { v: 1.5 } });
    let published = false;
    void publishing.then(() => (published = true));
    await new Promise((r) => setTimeout(r, 300));
    const health = await fetch(`${stack().apiUrl}/healthz`);
    // The event loop is free while the schema runs: /healthz is answered before the publish is.
    expect(health.status).toBe(200);
    expect(published).toBe(false);
    const res = await publishing;
    expect400(res, 'data');
    expect(res.body.error.message).toMatch(/too costly to validate/);
    expect(await total('/v1/events')).toBe(before);
    // The same schema still validates what is cheap to validate.
    expect((await admin.post('/v1/events', { type: 'cost.exponential', data: { v: 'text' } })).status).toBe(202);
  });

  it('the budget is per request: a batch of costly events is refused at the first, naming events.<i>.data', async () => {
    const before = await total('/v1/events');
    const events = [{ type: 'utf.check', data: {} }, ...Array.from({ length: 5 }, () => ({ type: 'cost.exponential', data: { v: 1.5 } }))];
    expect400(await admin.post('/v1/events/batch', { events }), 'events.1.data');
    expect(await total('/v1/events')).toBe(before);
  });
});
