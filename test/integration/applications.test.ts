import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { client, eventually, newOrg, quietFor, stack, testStore, type Client } from '../support/api.js';
import { newId } from '../../src/domain/ids.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

// Applications (issue 11): the producer's customers as tenants inside an organization, scoped keys, and
// nothing published ever silently dropped (paused → held and released in order; auto-disabled → skipped).
let admin: Client;
let publisher: Client;
let other: Client;
const receivers: Receiver[] = [];
const receiver = async (...args: Parameters<typeof startReceiver>) => {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
};
const bodies = (r: Receiver) => r.received.map((x) => JSON.parse(x.body));

beforeAll(async () => {
  ({ admin, publisher } = await newOrg('apps'));
  ({ admin: other } = await newOrg('apps-other'));
  for (const name of ['order.paid', 'order.refunded', 'order.shipped']) await admin.post('/v1/event-types', { name });
});
afterAll(async () => {
  for (const r of receivers) await r.close();
});

describe('applications', () => {
  it('CRUD, upsert by uid (201 then 200), uid wherever an id is accepted, list with uid and name search', async () => {
    const created = await admin.post('/v1/applications', { name: 'Acme Corp', uid: 'acme', metadata: { plan: 'pro' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ uid: 'acme', name: 'Acme Corp', metadata: { plan: 'pro' }, rate_limit_per_s: null });
    expect(created.body.id).toMatch(/^app_/);
    expect((await admin.post('/v1/applications', { name: 'dup', uid: 'acme' })).status).toBe(409);

    const put1 = await admin.put('/v1/applications/uid/globex', { name: 'Globex' });
    expect(put1.status).toBe(201);
    const put2 = await admin.put('/v1/applications/uid/globex', { name: 'Globex Inc', rate_limit_per_s: 50 });
    expect(put2.status).toBe(200);
    expect(put2.body).toMatchObject({ id: put1.body.id, name: 'Globex Inc', rate_limit_per_s: 50 });

    expect((await admin.get('/v1/applications/acme')).body.id).toBe(created.body.id);
    expect((await admin.get(`/v1/applications/${created.body.id}`)).body.uid).toBe('acme');
    expect((await admin.get('/v1/applications?q=glob')).body.data.map((a: any) => a.uid)).toEqual(['globex']);
    expect((await admin.get('/v1/applications?uid=acme')).body.data.map((a: any) => a.id)).toEqual([created.body.id]);
    const patched = await admin.patch('/v1/applications/acme', { name: 'Acme', metadata: { plan: 'enterprise' } });
    expect(patched.body).toMatchObject({ name: 'Acme', metadata: { plan: 'enterprise' } });

    // Validation and cross-organization access.
    expect((await admin.post('/v1/applications', { uid: 'x' })).status).toBe(400);
    expect((await admin.post('/v1/applications', { name: 'x', metadata: { a: 1 } })).status).toBe(400);
    expect((await other.get('/v1/applications/acme')).status).toBe(404);
    expect((await other.get(`/v1/applications/${created.body.id}`)).status).toBe(404);
    expect((await publisher.post('/v1/applications', { name: 'nope' })).status).toBe(403);
  });

  it('two applications with the same event types each receive only their own events, even with webhooks that set no filter', async () => {
    const [a, b, org] = [await receiver(), await receiver(), await receiver()];
    const appA = (await admin.put('/v1/applications/uid/cust-a', { name: 'A' })).body;
    const appB = (await admin.put('/v1/applications/uid/cust-b', { name: 'B' })).body;
    // No events, no channels: every event *of its application*.
    const whA = await admin.post('/v1/webhooks', { url: a.url, application: 'cust-a' });
    expect(whA.status, JSON.stringify(whA.body)).toBe(201);
    expect(whA.body.application_id).toBe(appA.id);
    const whB = await admin.post(`/v1/applications/${appB.id}/webhooks`, { url: b.url });
    expect(whB.body.application_id).toBe(appB.id);
    const whOrg = await admin.post('/v1/webhooks', { url: org.url });
    expect(whOrg.body.application_id).toBeNull();

    const evA = await publisher.post('/v1/events', { application: 'cust-a', type: 'order.paid', data: { n: 1 } });
    expect(evA.status, JSON.stringify(evA.body)).toBe(202);
    expect(evA.body.deliveries).toBe(1);
    await publisher.post('/v1/events', { application: appB.id, type: 'order.paid', data: { n: 2 } });
    await publisher.post('/v1/events', { type: 'order.paid', data: { n: 3 } });
    // A batch with mixed applications.
    const batch = await publisher.post('/v1/events/batch', { events: [
      { application: 'cust-a', type: 'order.refunded', data: { n: 4 } },
      { application: 'cust-b', type: 'order.refunded', data: { n: 5 } },
    ] });
    expect(batch.status, JSON.stringify(batch.body)).toBe(202);
    await a.waitFor(2);
    await b.waitFor(2);
    await org.waitFor(1);
    await quietFor(500);
    expect(bodies(a).map((e) => e.data.n).sort()).toEqual([1, 4]);
    expect(bodies(b).map((e) => e.data.n).sort()).toEqual([2, 5]);
    expect(bodies(org).map((e) => e.data.n)).toEqual([3]);

    // Publishing to an unknown application stores nothing.
    const before = (await admin.get('/v1/events?per_page=100')).body.pagination.total;
    expect((await publisher.post('/v1/events', { application: 'nobody', type: 'order.paid', data: {} })).status).toBe(404);
    const badBatch = await publisher.post('/v1/events/batch', { events: [{ application: 'cust-a', type: 'order.paid', data: {} }, { application: 'nobody', type: 'order.paid', data: {} }] });
    // In a batch: 400 naming the element (docs/api.md), as every other bad element.
    expect(badBatch.status).toBe(400);
    expect(JSON.stringify(badBatch.body.error)).toContain('events.1.application');
    expect((await admin.get('/v1/events?per_page=100')).body.pagination.total).toBe(before);

    // Per-application views.
    expect((await admin.get('/v1/events?application=cust-a')).body.data.map((e: any) => e.data.n).sort()).toEqual([1, 4]);
    expect((await admin.get(`/v1/webhooks?application=cust-b`)).body.data.map((w: any) => w.id)).toEqual([whB.body.id]);
    const ds = await eventually(async () => {
      const r = (await admin.get('/v1/applications/cust-a/deliveries')).body.data;
      return r.length === 2 && r.every((d: any) => d.status === 'delivered') && r;
    });
    expect(ds.every((d: any) => d.application_id === appA.id)).toBe(true);
    const stats = await eventually(async () => {
      const s = (await admin.get('/v1/applications/cust-a/stats')).body;
      return s.attempts?.succeeded === 2 && s;
    });
    expect(stats).toMatchObject({ success_rate: 1, webhooks: [{ id: whA.body.id, health_status: 'healthy', status: 'active' }] });
    expect(stats.latency_ms.p50).toBeGreaterThan(0);
  });

  it('application keys: only their own application (404 elsewhere), cannot publish or create keys; keys are listed, expire, revoke', async () => {
    const mine = (await admin.put('/v1/applications/uid/key-mine', { name: 'mine' })).body;
    const theirs = (await admin.put('/v1/applications/uid/key-theirs', { name: 'theirs' })).body;
    const rcv = await receiver();
    const { body: theirWh } = await admin.post('/v1/webhooks', { url: rcv.url, application: theirs.id, events: ['order.paid'] });
    const { body: orgWh } = await admin.post('/v1/webhooks', { url: rcv.url, events: ['order.paid'] });
    const { body: ev } = await publisher.post('/v1/events', { application: theirs.id, type: 'order.paid', data: {} });
    const d = await eventually(async () => (await admin.get(`/v1/webhooks/${theirWh.id}/deliveries`)).body.data[0]);
    const rec = (await admin.post(`/v1/webhooks/${theirWh.id}/recover`, { since: new Date(0).toISOString() })).body;

    const created = await admin.post('/v1/keys', { role: 'application', application: 'key-mine', name: 'portal' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ role: 'application', application_id: mine.id, name: 'portal' });
    expect(created.body.key).toMatch(/^hrk_/);
    const app = client(created.body.key);
    expect((await app.get('/v1/me')).body.key).toMatchObject({ role: 'application', application_id: mine.id });

    // Its own: create, list, read, change.
    const own = await app.post('/v1/webhooks', { url: rcv.url, events: ['order.paid'] });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(own.body.application_id).toBe(mine.id);
    expect((await app.get('/v1/webhooks')).body.data.map((w: any) => w.id)).toEqual([own.body.id]);
    expect((await app.patch(`/v1/webhooks/${own.body.id}`, { description: 'mine' })).status).toBe(200);
    expect((await app.get('/v1/applications')).body.data.map((a: any) => a.id)).toEqual([mine.id]);
    expect((await app.get('/v1/event-types')).status).toBe(200);
    // Webhook uids are per application: the same uid elsewhere is neither seen nor replaced.
    const theirsByUid = await admin.put('/v1/webhooks/uid/main', { url: rcv.url, application: 'key-theirs' });
    expect(theirsByUid.status).toBe(201);
    const mineByUid = await app.put('/v1/webhooks/uid/main', { url: rcv.url, description: 'mine' });
    expect(mineByUid.status, JSON.stringify(mineByUid.body)).toBe(201);
    expect(mineByUid.body.id).not.toBe(theirsByUid.body.id);
    expect((await app.put('/v1/webhooks/uid/main', { url: rcv.url })).status).toBe(200);
    expect((await admin.get(`/v1/webhooks/${theirsByUid.body.id}`)).body.application_id).toBe(theirs.id);
    await app.del(`/v1/webhooks/${mineByUid.body.id}`);

    // Everything of another application or of the organization level: 404.
    const probes: [string, string, unknown?][] = [];
    for (const id of [theirWh.id, orgWh.id]) {
      probes.push(
        ['GET', `/v1/webhooks/${id}`], ['PATCH', `/v1/webhooks/${id}`, { description: 'x' }], ['DELETE', `/v1/webhooks/${id}`],
        ['POST', `/v1/webhooks/${id}/rotate-secret`, {}], ['POST', `/v1/webhooks/${id}/recover`, { since: new Date(0).toISOString() }],
        ['POST', `/v1/webhooks/${id}/test`, {}], ['GET', `/v1/webhooks/${id}/stats`], ['GET', `/v1/webhooks/${id}/deliveries`],
      );
    }
    probes.push(
      ['GET', `/v1/webhooks/${theirWh.id}/recoveries/${rec.id}`], ['GET', `/v1/deliveries/${d.id}`], ['POST', `/v1/deliveries/${d.id}/retry`, {}],
      ['GET', `/v1/events/${ev.id}`], ['GET', `/v1/applications/${theirs.id}`], ['GET', '/v1/applications/key-theirs/stats'],
      ['GET', '/v1/applications/key-theirs/webhooks'], ['POST', '/v1/applications/key-theirs/webhooks', { url: rcv.url }],
      ['GET', '/v1/applications/key-theirs/deliveries'], ['GET', `/v1/events?application=${theirs.id}`], ['GET', '/v1/webhooks?application=key-theirs'],
    );
    for (const [method, path, body] of probes) {
      const res = await app.call(method, path, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(404);
    }
    expect((await app.post('/v1/webhooks', { url: rcv.url, application: 'key-theirs' })).status).toBe(404);
    expect((await app.get('/v1/events')).body.data).toEqual([]);
    // Not its role: publishing, keys, applications, the catalog.
    expect((await app.post('/v1/events', { type: 'order.paid', data: {} })).status).toBe(403);
    expect((await app.post('/v1/keys', { role: 'admin' })).status).toBe(403);
    expect((await app.get('/v1/keys')).status).toBe(403);
    expect((await app.post('/v1/applications', { name: 'x' })).status).toBe(403);
    expect((await app.del('/v1/applications/key-mine')).status).toBe(403);
    expect((await app.post('/v1/event-types', { name: 'x.y' })).status).toBe(403);
    // Nothing of theirs changed.
    expect((await admin.get(`/v1/webhooks/${theirWh.id}`)).body.description).toBe('');

    // Keys: listed without the key, validated, expire, revoke.
    const listed = (await admin.get('/v1/keys?per_page=100')).body.data.find((k: any) => k.id === created.body.id);
    expect(listed).toMatchObject({ role: 'application', application_id: mine.id, prefix: created.body.key.slice(0, 8) });
    expect(listed.key).toBeUndefined();
    expect(await eventually(async () => (await admin.get(`/v1/keys/${created.body.id}`)).body.last_used_at)).toMatch(/^20/);
    expect((await admin.post('/v1/keys', { role: 'application' })).status).toBe(400);
    expect((await admin.post('/v1/keys', { role: 'publisher', application: 'key-mine' })).status).toBe(400);
    expect((await admin.post('/v1/keys', { role: 'admin', expires_at: '2001-01-01T00:00:00Z' })).status).toBe(400);
    expect((await other.del(`/v1/keys/${created.body.id}`)).status).toBe(404);
    const soon = await admin.post('/v1/keys', { role: 'publisher', expires_at: new Date(Date.now() + 1500).toISOString() });
    expect((await client(soon.body.key).get('/v1/me')).status).toBe(200);
    await eventually(async () => (await client(soon.body.key).get('/v1/me')).status === 401, 15_000, 500);
    expect((await admin.del(`/v1/keys/${created.body.id}`)).status).toBe(204);
    await eventually(async () => (await app.get('/v1/me')).status === 401, 15_000, 500);
  });

  it('deleting an application deletes its webhooks (deliveries end cancelled) and revokes its keys', async () => {
    const rcv = await receiver(() => ({ status: 500 }));
    const app = (await admin.put('/v1/applications/uid/to-delete', { name: 'gone soon' })).body;
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, application: app.id, events: ['order.paid'], retry_schedule: ['1h'] });
    const { body: key } = await admin.post('/v1/keys', { role: 'application', application: app.id });
    await publisher.post('/v1/events', { application: app.id, type: 'order.paid', data: {} });
    const d = await eventually(async () => (await admin.get(`/v1/webhooks/${wh.id}/deliveries`)).body.data.find((x: any) => x.attempt === 1));
    expect(d.status).toBe('pending');
    expect((await admin.del('/v1/applications/to-delete')).status).toBe(204);
    expect((await admin.get(`/v1/applications/${app.id}`)).status).toBe(404);
    expect((await admin.get(`/v1/webhooks/${wh.id}`)).status).toBe(404);
    expect((await admin.get(`/v1/deliveries/${d.id}`)).body.status).toBe('cancelled');
    await eventually(async () => (await client(key.key).get('/v1/me')).status === 401, 15_000, 500);
    // Publishing to it now is a 404: nothing stored, nothing sent.
    expect((await publisher.post('/v1/events', { application: app.id, type: 'order.paid', data: {} })).status).toBe(404);
    const sent = rcv.received.length;
    await quietFor(1500);
    expect(rcv.received.length).toBe(sent);
  });
});

describe('nothing published is silently dropped', () => {
  it('publish while paused → nothing sent → resume → every held event delivered exactly once, in publication order', async () => {
    const rcv = await receiver();
    await admin.put('/v1/applications/uid/paused-app', { name: 'pauses' });
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, application: 'paused-app', events: ['order.paid'] });
    expect((await admin.patch(`/v1/webhooks/${wh.id}`, { disabled: true })).body.status).toBe('disabled');
    for (let n = 0; n < 12; n++) {
      const r = await publisher.post('/v1/events', { application: 'paused-app', type: 'order.paid', data: { n } });
      expect(r.body.deliveries).toBe(1);
    }
    await quietFor(1000);
    expect(rcv.received).toHaveLength(0);
    const held = (await admin.get(`/v1/webhooks/${wh.id}/deliveries?per_page=100`)).body.data;
    expect(held).toHaveLength(12);
    expect(held.every((d: any) => d.status === 'paused' && d.attempt === 0)).toBe(true);

    const resumed = await admin.patch(`/v1/webhooks/${wh.id}`, { disabled: false });
    expect(resumed.body.recovery).toMatchObject({ release: true, since: null, status: 'running' });
    await rcv.waitFor(12);
    await eventually(async () => (await admin.get(`/v1/webhooks/${wh.id}/recoveries/${resumed.body.recovery.id}`)).body.status === 'completed');
    await quietFor(500);
    expect(bodies(rcv).map((e) => e.data.n)).toEqual([...Array(12).keys()]);
    const after = await eventually(async () => {
      const ds = (await admin.get(`/v1/webhooks/${wh.id}/deliveries?per_page=100`)).body.data;
      return ds.every((d: any) => d.status === 'delivered') && ds;
    });
    expect(after).toHaveLength(12);
    expect(new Set(rcv.received.map((r) => r.headers['webhook-id'])).size).toBe(12);
  });

  it('a webhook auto-disabled by 410 records later events as skipped; re-enabled with recover_since, they are delivered', async () => {
    let gone = true;
    const rcv = await receiver(() => ({ status: gone ? 410 : 200 }));
    // An application of its own: the organization-level webhook of an earlier test takes every org-level event.
    await admin.put('/v1/applications/uid/gone-app', { name: 'gone' });
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, application: 'gone-app', events: ['order.shipped'], retry_schedule: [] });
    const since = new Date().toISOString();
    await publisher.post('/v1/events', { application: 'gone-app', type: 'order.shipped', data: { n: 'first' } });
    await eventually(async () => {
      const w = (await admin.get(`/v1/webhooks/${wh.id}`)).body;
      return w.status === 'disabled' && w.disabled_reason === 'gone';
    });
    for (const n of [1, 2, 3]) expect((await publisher.post('/v1/events', { application: 'gone-app', type: 'order.shipped', data: { n } })).body.deliveries).toBe(1);
    const skipped = (await admin.get(`/v1/webhooks/${wh.id}/deliveries?status=skipped`)).body.data;
    expect(skipped).toHaveLength(3);
    await quietFor(500);
    expect(rcv.received).toHaveLength(1);

    gone = false;
    const res = await admin.patch(`/v1/webhooks/${wh.id}`, { disabled: false, recover_since: since });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await rcv.waitFor(5); // the 410'd one (failed) and the three skipped
    await quietFor(500);
    const ns = bodies(rcv).slice(1).map((e) => e.data.n);
    expect(ns.sort()).toEqual([1, 2, 3, 'first'].sort() as never);
    expect(rcv.received).toHaveLength(5);
    await eventually(async () => (await admin.get(`/v1/webhooks/${wh.id}/deliveries?status=skipped`)).body.data.length === 0);
  });

  it('a recovery that died after setting a delivery pending, before re-delivering it, finishes it when it runs again', async () => {
    let fail = true;
    const rcv = await receiver(() => ({ status: fail ? 500 : 200 }));
    const { body: wh } = await admin.post('/v1/webhooks', { url: rcv.url, application: 'gone-app', events: ['order.shipped'], retry_schedule: [] });
    await publisher.post('/v1/events', { application: 'gone-app', type: 'order.shipped', data: { n: 'interrupted' } });
    const d = await eventually(async () => (await admin.get(`/v1/webhooks/${wh.id}/deliveries`)).body.data.find((x: any) => x.status === 'failed'));
    fail = false;
    // The state a crash leaves: the task is running, the delivery was set pending by it, no re-delivery started.
    const store = await testStore();
    const del = await store.c.deliveries.findOne({ _id: d.id });
    const recId = newId('rcv');
    await store.c.recoveries.insertOne({ _id: recId, org_id: del!.org_id, webhook_id: del!.webhook_id, release: false, since: new Date(Date.now() - 3600_000), until: null, status: 'running', recovered: 0, created_at: new Date(), completed_at: null });
    await store.c.deliveries.updateOne({ _id: d.id }, { $set: { status: 'pending', retried_by: recId, retry_from: 1, next_attempt_at: new Date() } });
    const connection = await Connection.connect({ address: stack().temporalAddress });
    try {
      await new TemporalClient({ connection }).workflow.execute('recoveryWorkflow', { taskQueue: stack().env.TEMPORAL_TASK_QUEUE, workflowId: `recovery/${recId}`, args: [{ recoveryId: recId }] });
    } finally {
      await connection.close();
    }
    await rcv.waitFor(2);
    expect(await eventually(async () => (await admin.get(`/v1/deliveries/${d.id}`)).body.status === 'delivered' && true)).toBe(true);
  });
});
