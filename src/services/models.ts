// The stored shapes the services hand to the API, which presents them. (Re-exported so that the HTTP layer
// depends on services only, never on storage.)
export type {
  ApiKeyDoc, ApplicationDoc, AttemptDoc, DeliveryDoc, DeliveryStatus, EventDoc, EventTypeDoc, RecoveryDoc, Role, WebhookDoc,
} from '../storage/types.js';
export type { HealthStatus } from '../domain/health.js';
export { commandCounts, guard, isMongoUnavailable, isTransientBusy } from '../storage/mongo.js';
