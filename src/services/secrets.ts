import type { Store } from '../storage/mongo.js';
import { resealAllWebhookSecrets } from '../storage/repos/webhooks.js';

/**
 * After a key rotation (new key first in HOOKRELAY_ENCRYPTION_KEY_FILE, or HOOKRELAY_ENCRYPTION_KEY with the old
 * one in HOOKRELAY_ENCRYPTION_KEYS_OLD): seals every stored webhook secret and secret header value with the current
 * key, so the old key can then be dropped. Also seals values stored before encryption (or header sealing) existed.
 * Safe to run again.
 */
export const resealWebhookSecrets = (store: Store) => resealAllWebhookSecrets(store);
