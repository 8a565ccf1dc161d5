import type { WebhookId } from '../../domain/ids.js';
import type { Scope } from '../orgs.js';
import { generateSecret } from '../../domain/signature.js';
import type { Store } from '../../storage/mongo.js';
import { tenant } from '../../storage/tenant.js';
import type { WebhookService } from './crud.js';
import { rotation } from './fields.js';

/** Rotates a webhook's signing secret; the previous one keeps signing (a second signature) for 24 h. */
export async function rotateSecret(store: Store, webhooks: WebhookService, scope: Scope, id: WebhookId, secret = generateSecret()): Promise<string> {
  const wh = await webhooks.load(scope, id);
  await tenant(store, scope.orgId).webhooks.set(wh._id, rotation(wh, secret));
  return secret;
}
