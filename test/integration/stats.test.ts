import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, newOrg, type Client } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

// Statistics mean one thing everywhere (docs/api.md, "Statistics"): success_rate is the share of the finished
// attempts that succeeded, in webhook and application statistics alike; deliveries are counted apart.
describe('statistics: one definition of success rate', () => {
  let admin: Client;
  let publisher: Client;
  let rcv: Receiver;
  beforeAll(async () => {
    ({ admin, publisher } = await newOrg('stats'));
    // Two failed attempts, then success: one delivery, delivered on its third attempt.
    rcv = await startReceiver((n) => ({ status: n < 2 ? 500 : 200 }));
    expect((await admin.post('/v1/event-types', { name: 'stats.thing' })).status).toBe(201);
    expect((await admin.put('/v1/applications/uid/stats-app', { name: 'Stats' })).status).toBe(201);
  });
  afterAll(() => rcv?.close());

  it('a delivery that succeeded on its third attempt: 1 success, 2 failures, rate 1/3, in webhook and application stats', async () => {
    const wh = (await admin.post('/v1/applications/stats-app/webhooks', { url: rcv.url, events: ['stats.thing'], retry_schedule: ['1s', '1s'] })).body;
    expect(wh.id).toMatch(/^wh_/);
    expect((await publisher.post('/v1/events', { application: 'stats-app', type: 'stats.thing', data: {} })).body.deliveries).toBe(1);
    await rcv.waitFor(3, 60_000);

    const webhook = await eventually(async () => {
      const s = (await admin.get(`/v1/webhooks/${wh.id}/stats?window=1h`)).body;
      return s.deliveries?.delivered === 1 && s.attempts?.succeeded === 1 && s;
    });
    expect(webhook).toMatchObject({ attempts: { succeeded: 1, failed: 2 }, deliveries: { delivered: 1, failed: 0, pending: 0 } });
    expect(webhook.success_rate).toBeCloseTo(1 / 3, 5);

    // The application's statistics come from the webhooks' hourly summaries (written within a second): the same count.
    const app = await eventually(async () => {
      const s = (await admin.get('/v1/applications/stats-app/stats')).body;
      return s.attempts?.succeeded === 1 && s.attempts.failed === 2 && s;
    });
    expect(app.success_rate).toBeCloseTo(webhook.success_rate, 5);

    // The OpenAPI document says so, on both.
    const doc = (await admin.get('/openapi.json')).body;
    for (const name of ['WebhookStats', 'ApplicationStats']) {
      expect(doc.components.schemas[name].properties.success_rate.description, name).toMatch(/finished attempts/);
      expect(doc.components.schemas[name].required, name).toContain('attempts');
    }
  }, 90_000);
});
