// Publishing from your service: register a customer's endpoint, publish an event, read the delivery log.
// Run: HOOKRELAY_API_URL=http://127.0.0.1:3000 HOOKRELAY_API_KEY=hrk_… RECEIVER_URL=http://127.0.0.1:4000/hook \
//        WEBHOOK_SECRET=whsec_… npx tsx examples/publish.ts      (without WEBHOOK_SECRET one is generated)
import { Hookrelay, HookrelayError } from '@hookrelay/sdk';

const hookrelay = new Hookrelay({ apiKey: process.env.HOOKRELAY_API_KEY!, baseUrl: process.env.HOOKRELAY_API_URL });

try {
  await hookrelay.eventTypes.create({ name: 'case.complete', description: 'A case finished' });
} catch (err) {
  if (!(err instanceof HookrelayError && err.code === 'conflict')) throw err; // already in the catalog
}

// One webhook per customer source: registering the same uid again replaces its configuration.
const webhook = await hookrelay.webhooks.register('customer-42', {
  url: process.env.RECEIVER_URL!,
  events: ['case.complete'],
  secret: process.env.WEBHOOK_SECRET,
});
console.log('webhook', webhook.id, webhook.secret ? `secret (shown once): ${webhook.secret}` : '(secret unchanged)');

// Retries are safe: publish() sends an idempotency key, so a retried call never publishes twice.
const event = await hookrelay.events.publish({ type: 'case.complete', data: { case_id: 'prn_42', decision: 'APPROVE' } });
console.log('published', event.id, 'to', event.deliveries, 'webhook(s)');

for (let i = 0; i < 100; i++) {
  const { data } = await hookrelay.webhooks.deliveries(webhook.id);
  if (data[0]?.status === 'delivered') {
    console.log('delivered', data[0].id, 'attempt', data[0].attempt, 'status', data[0].status_code);
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 100));
}
console.error('not delivered in 10 s');
process.exit(1);
