import { describe, expect, it } from 'vitest';
import { newOrg, testStore } from '../support/api.js';
import { asId, attemptId, type DeliveryId, type OrgId, type WebhookId } from '../../src/domain/ids.js';
import { deliveryRepo } from '../../src/storage/repos/deliveries.js';

// An attempt's record, begun before its request leaves (storage/repos/deliveries.ts), on the real MongoDB-wire
// server of the suite: an attempt run again by Temporal is told whether its request was already answered.
describe('attempt records', () => {
  async function setup() {
    const store = await testStore();
    const { org } = await newOrg('attempts');
    const orgId = org._id as OrgId;
    const deliveryId = asId('dlv', `dlv_ATT${Date.now()}${Math.floor(Math.random() * 1e6)}`) as DeliveryId;
    const doc = (attempt: number) => ({
      _id: attemptId(deliveryId, attempt), org_id: orgId, delivery_id: deliveryId, webhook_id: asId('wh', 'wh_ATTEMPTS') as WebhookId, attempt,
      status_code: null, duration_ms: 0, error: null, response_body: null, created_at: new Date(),
    });
    return { repo: deliveryRepo(store, orgId).attempts, doc, deliveryId };
  }

  it('a re-run after the answer was recorded gets that record and sends nothing; one still in flight counts a second send', async () => {
    const { repo, doc, deliveryId } = await setup();
    expect(await repo.begin(doc(1))).toBeNull();
    await repo.finish(doc(1)._id, { status_code: 500, duration_ms: 12, error: 'http_status', response_body: 'nope' });
    const again = await repo.begin(doc(1));
    expect(again).toMatchObject({ attempt: 1, status_code: 500, duration_ms: 12, error: 'http_status', in_flight: false, sends: 1 });

    expect(await repo.begin(doc(2))).toBeNull();
    // The worker died after it began attempt 2 (perhaps after sending): the re-run sends, and the log says twice.
    expect(await repo.begin(doc(2))).toBeNull();
    const attempts = await repo.of(deliveryId);
    expect(attempts.map((a) => [a.attempt, a.sends, a.in_flight])).toEqual([[1, 1, false], [2, 2, true]]);
  });
});
