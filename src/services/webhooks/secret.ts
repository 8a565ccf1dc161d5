import type { OrgId, WebhookId } from '../../domain/ids.js';
import { generateSecret } from '../../domain/signature.js';
import type { Store } from '../../storage/mongo.js';
import { tenant } from '../../storage/tenant.js';
import type { WebhookService } from './crud.js';
import { rotation } from './fields.js';

/** Rotates a webhook's signing secret; the previous one keeps signing (a second signature) for 24 h. */
export async function rotateSecret(store: Store, webhooks: WebhookService, orgId: OrgId, id: WebhookId, secret = generateSecret()): Promise<string> {
  const wh = await webhooks.load(orgId, id);
  await tenant(store, orgId).webhooks.set(wh._id, rotation(wh, secret));
  return secret;
}
