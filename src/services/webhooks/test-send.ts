import type { WebhookId } from '../../domain/ids.js';
import type { Scope } from '../orgs.js';
import type { Store } from '../../storage/mongo.js';
import { tenant } from '../../storage/tenant.js';
import type { AttemptDoc, DeliveryDoc, EventDoc } from '../../storage/types.js';
import type { Publisher } from '../publish.js';
import type { WebhookService } from './crud.js';

/**
 * Sends a test event to one webhook only and waits for its first attempt (up to the webhook's timeout and a
 * margin), so the caller sees what the endpoint answered.
 */
export async function sendTest(
  deps: { store: Store; publisher: Publisher; webhooks: WebhookService },
  scope: Scope,
  id: WebhookId,
  input: { event_type?: string; data?: unknown },
): Promise<{ delivery: DeliveryDoc; event?: EventDoc; attempts: AttemptDoc[] }> {
  const t = tenant(deps.store, scope.orgId);
  const wh = await deps.webhooks.load(scope, id);
  const type = input.event_type ?? 'webhook.test';
  const data = input.data ?? { message: 'hello from hookrelay', webhook_id: wh._id };
  const deliveryId = await deps.publisher.publishTo(scope.orgId, wh, { type, data });
  const deadline = Date.now() + wh.timeout_ms + 5000;
  for (;;) {
    const d = await t.deliveries.get(deliveryId);
    if (d && (d.attempt > 0 || d.status !== 'pending' || Date.now() > deadline)) {
      const [event, attempts] = await Promise.all([t.events.get(d.event_id), t.deliveries.attempts.of(d._id)]);
      // The delivery's state and its attempt's outcome are written side by side: wait for both.
      if (attempts.some((a) => a.in_flight) && Date.now() <= deadline) continue;
      return { delivery: d, event: event ?? undefined, attempts };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
