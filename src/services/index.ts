import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Store } from '../storage/mongo.js';
import type { Temporal } from '../temporal.js';
import { createControl } from './control.js';
import { deliveryService } from './deliveries.js';
import { eventTypeService } from './event-types.js';
import { applicationStats, webhookStats } from './health.js';
import { getOrg, identify, type Scope } from './orgs.js';
import { applicationService } from './applications.js';
import { keyService } from './keys.js';
import { createPublisher, type PublishObserver } from './publish.js';
import { createRecoveries } from './recoveries.js';
import { webhookService } from './webhooks/crud.js';
import { rotateSecret } from './webhooks/secret.js';
import { sendTest } from './webhooks/test-send.js';
import type { AppId, OrgId, WebhookId } from '../domain/ids.js';

/** Every service of the API process, wired once over the store and the Temporal adapter. */
export function createServices(deps: { config: Config; log: Logger; store: Store; temporal: Temporal; observe?: PublishObserver }) {
  const { config, log, store, temporal } = deps;
  const publisher = createPublisher({ store, temporal, log, observe: deps.observe, queue: config.fanoutQueue });
  const control = createControl({ store, temporal, log, publisher });
  const recoveries = createRecoveries({ store, temporal, control });
  const applications = applicationService({ store, control });
  const webhooks = webhookService({ store, control, recoveries, applications, policy: { allowHttpTargets: config.allowHttpTargets, allowPrivateTargets: config.allowPrivateTargets, defaultTimeoutMs: config.defaultTimeoutMs } });
  return {
    publisher,
    control,
    recoveries,
    webhooks,
    applications,
    keys: keyService({ store, applications }),
    deliveries: deliveryService({ store, control, applications }),
    eventTypes: eventTypeService(store),
    rotateSecret: (scope: Scope, id: WebhookId, secret?: string) => rotateSecret(store, webhooks, scope, id, secret),
    sendTest: (scope: Scope, id: WebhookId, input: { event_type?: string; data?: unknown }) => sendTest({ store, publisher, webhooks }, scope, id, input),
    stats: async (scope: Scope, id: WebhookId, windowMs: number) => webhookStats(store, scope.orgId, (await webhooks.load(scope, id))._id, windowMs),
    applicationStats: (orgId: OrgId, appId: AppId) => applicationStats(store, orgId, appId),
    orgs: { get: (id: OrgId) => getOrg(store, id), identify: (key: string) => identify(store, key) },
    /** Readiness of the two dependencies, for /readyz. */
    readiness: { mongodb: () => store.ping(), temporal: () => temporal.ping() },
    /** Delivery workflows this process started, and how many the server started eagerly (all-in-one process). */
    workflowStarts: () => ({ ...temporal.starts }),
  };
}

export type Services = ReturnType<typeof createServices>;
