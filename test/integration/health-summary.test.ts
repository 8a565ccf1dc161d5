import { describe, expect, it } from 'vitest';
import { eventually, newOrg, testStore } from '../support/api.js';
import { createHealthRecorder } from '../../src/services/health.js';
import { createLogger } from '../../src/log.js';
import { asId, type OrgId, type WebhookId } from '../../src/domain/ids.js';
import { webhookRepo } from '../../src/storage/repos/webhooks.js';

// The health summaries kept in memory by a worker and written at most once per flush interval, conditionally on
// being the one last read or written (services/health.ts); on the real MongoDB-wire server of the suite.
describe('health summaries', () => {
  const log = createLogger('silent', 'test');
  const fail = (at = new Date()) => ({ ok: false, at, durationMs: 30 });
  const ok = (at = new Date()) => ({ ok: true, at, durationMs: 20 });

  async function setup() {
    const store = await testStore();
    const { org } = await newOrg('health');
    const id = asId('wh', `wh_HEALTH${Date.now()}${Math.floor(Math.random() * 1e6)}`) as WebhookId;
    return { store, orgId: org._id as OrgId, id, repo: webhookRepo(store, org._id as OrgId).health };
  }

  it('answers the streak at once and writes the outcomes together, once per interval', async () => {
    const { store, orgId, id, repo } = await setup();
    const h = createHealthRecorder(store, log, { flushMs: 300 });
    expect(await h.record(orgId, id, fail())).toBe(1);
    expect(await h.record(orgId, id, fail())).toBe(2);
    expect(await h.record(orgId, id, fail())).toBe(3);
    const doc = await eventually(async () => await repo.get(id), 5000, 50);
    expect(doc.streak).toBe(3);
    expect(doc.hours[0]).toMatchObject({ ok: 0, failed: 3 });
    expect(doc.recent).toHaveLength(3);
    expect(await h.record(orgId, id, ok())).toBe(0);
    await h.flush();
    expect(await repo.get(id)).toMatchObject({ streak: 0, hours: [{ ok: 1, failed: 3 }] });
  });

  it('another process writing meanwhile: the fresh summary is read again and nothing is lost', async () => {
    const { store, orgId, id, repo } = await setup();
    const a = createHealthRecorder(store, log, { flushMs: 60_000 });
    const b = createHealthRecorder(store, log, { flushMs: 60_000 });
    // Both read the summary (none yet), then each writes its own outcomes.
    await a.record(orgId, id, ok());
    await b.record(orgId, id, fail());
    await a.flush();
    await b.flush(); // its condition (no summary yet) no longer holds: it reads A's and adds to it
    expect(await repo.get(id)).toMatchObject({ hours: [{ ok: 1, failed: 1 }] });
    await a.record(orgId, id, ok());
    await a.record(orgId, id, ok());
    await b.record(orgId, id, fail());
    await b.flush();
    await a.flush(); // A's version is stale now: read again, added
    const doc = await repo.get(id);
    expect(doc).toMatchObject({ hours: [{ ok: 3, failed: 2 }] });
    expect(doc!.recent).toHaveLength(5);
  });

  it('a write conditioned on the version: the stale one is refused, the current one lands (by _id on FerretDB)', async () => {
    const { store, orgId, id, repo } = await setup();
    // The suite's MongoDB-wire server is FerretDB: the condition is compared on a read by _id (no scan there).
    expect(await store.isFerret()).toBe(true);
    const v1 = new Date(Date.now() - 2000);
    const base = { _id: id, org_id: orgId, streak: 0, hours: [], recent: [] };
    expect(await repo.putIf({ ...base, updated_at: v1 }, null)).toBe(true);
    expect(await repo.putIf({ ...base, updated_at: new Date() }, null)).toBe(false); // one exists already
    const v2 = new Date(Date.now() - 1000);
    expect(await repo.putIf({ ...base, streak: 2, updated_at: v2 }, v1)).toBe(true);
    expect(await repo.putIf({ ...base, streak: 9, updated_at: new Date() }, v1)).toBe(false); // v1 is stale
    expect(await repo.get(id)).toMatchObject({ streak: 2, updated_at: v2 });
    // Gone (its webhook deleted): nothing to replace.
    expect(await repo.putIf({ ...base, _id: `${id}x` as WebhookId, updated_at: new Date() }, v2)).toBe(false);
  });

  it('does not bring back the summary of a webhook deleted meanwhile', async () => {
    const { store, orgId, id, repo } = await setup();
    const h = createHealthRecorder(store, log, { flushMs: 60_000 });
    await h.record(orgId, id, ok());
    await h.flush();
    expect(await repo.get(id)).not.toBeNull();
    await h.record(orgId, id, fail());
    await store.c.webhookHealth.deleteOne({ _id: id });
    await h.flush();
    expect(await repo.get(id)).toBeNull();
  });
});
