import { describe, expect, it } from 'vitest';
import { asId, attemptId } from '../../src/domain/ids.js';
import { deliveryRepo } from '../../src/storage/repos/deliveries.js';
import { testStore } from '../support/api.js';

// The delivery log tells the truth: an attempt's record is written before its request leaves, and an attempt
// that runs again (its worker died after sending) counts the second send on the same record.
describe('attempt records', () => {
  it('are written before the send, count a repeated send, and lose the in-flight mark with the outcome', async () => {
    const store = await testStore();
    const org = asId('org', `org_LOG${Date.now()}`);
    const repo = deliveryRepo(store, org);
    const dlv = asId('dlv', `dlv_LOG${Date.now()}`);
    const id = attemptId(dlv, 2);
    expect(id).toMatch(/^att_.+_2$/);
    const base = { _id: id, org_id: org, delivery_id: dlv, webhook_id: asId('wh', 'wh_LOG'), attempt: 2, status_code: null, duration_ms: 0, error: null, response_body: null, created_at: new Date() };
    await repo.attempts.begin(base);
    expect((await repo.attempts.of(dlv))[0]).toMatchObject({ sends: 1, in_flight: true });
    // The worker died after sending; the attempt runs again.
    await repo.attempts.begin(base);
    await repo.attempts.finish(id, { status_code: 200, duration_ms: 12, error: null, response_body: 'ok' });
    const [a] = await repo.attempts.of(dlv);
    expect(a).toMatchObject({ attempt: 2, sends: 2, in_flight: false, status_code: 200 });
    // Health and latency count finished attempts only.
    expect(await repo.attempts.window(asId('wh', 'wh_LOG'), new Date(0))).toHaveLength(1);
  });
});
