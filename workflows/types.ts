import type { DeliveryId, EventId, OrgId, RecoveryId, WebhookId } from '../src/domain/ids.js';

// Shapes crossing the workflow boundary. Plain data only: they are serialized into Temporal history.
export type DeliveryInput = {
  orgId: OrgId;
  webhookId: WebhookId;
  eventId: EventId;
  deliveryId: DeliveryId;
  eventType: string;
  /** delays between attempts in ms, snapshotted when the run starts ([] = a single attempt) */
  scheduleMs: number[];
  /** attempts made by earlier runs (recovery and retry continue the count) */
  attemptsBefore: number;
  /** the event's exact body when it is small (see INLINE_BODY_MAX in src/domain/limits.ts): saves reading the event on every attempt */
  body?: string;
  /** W3C trace context of the publish that started it (only when tracing is on): attempts join that trace. */
  traceparent?: string;
};


export type DeliveryState = {
  status: 'pending' | 'delivered' | 'failed' | 'paused' | 'cancelled';
  attempt: number;
  paused: boolean;
  next_attempt_at: string | null;
};

export type DeliverRequest = DeliveryInput & { attempt: number; attemptInRun: number; elapsedSinceFirstMs: number };

export type DeliverResult =
  | { outcome: 'delivered' | 'failed' | 'cancelled' | 'held' }
  | { outcome: 'retry' | 'throttled'; delayMs: number };

export type RecoveryInput = { recoveryId: RecoveryId };
