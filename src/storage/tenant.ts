import type { OrgId } from '../domain/ids.js';
import type { Store } from './mongo.js';
import { deliveryRepo } from './repos/deliveries.js';
import { eventTypeRepo } from './repos/event-types.js';
import { eventRepo } from './repos/events.js';
import { recoveryRepo } from './repos/recoveries.js';
import { webhookRepo } from './repos/webhooks.js';

/**
 * Everything of one organization, scoped when it is made: a service asks for `tenant(store, orgId)` and can only
 * read and write that organization's data through it. (Applications will narrow the scope the same way.)
 */
export function tenant(store: Store, orgId: OrgId) {
  return {
    orgId,
    webhooks: webhookRepo(store, orgId),
    deliveries: deliveryRepo(store, orgId),
    events: eventRepo(store, orgId),
    eventTypes: eventTypeRepo(store, orgId),
    recoveries: recoveryRepo(store, orgId),
  };
}

export type Tenant = ReturnType<typeof tenant>;
