import type { WaitReason } from '../src/domain/fair-gate.js';
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
  /** Set when a held run continues as new: the attempts of `scheduleMs` already made, and when the first attempt was (epoch ms). */
  attemptsInRunBefore?: number;
  firstAttemptAt?: number;
};


export type DeliveryState = {
  status: 'pending' | 'delivered' | 'failed' | 'paused' | 'cancelled';
  attempt: number;
  paused: boolean;
  next_attempt_at: string | null;
  /** Why the next attempt waits to be sent, while it does (docs/architecture.md, "Fairness"). */
  waiting?: WaitReason | null;
};

export type DeliverRequest = DeliveryInput & {
  attempt: number;
  attemptInRun: number;
  elapsedSinceFirstMs: number;
  /** The delivery record says it waits (set by an earlier refusal of this attempt): cleared once it is sent. */
  waited?: WaitReason;
};

export type DeliverResult =
  | { outcome: 'delivered' | 'failed' | 'cancelled' | 'held' }
  | { outcome: 'retry' | 'throttled'; delayMs: number }
  /** Not sent: no room at the endpoint, the application's share or the worker; wait for `wake` (or `delayMs`), no attempt burned. */
  | { outcome: 'waiting'; reason: WaitReason; delayMs: number }
  /** Sent and not answered yet: the worker signals `attemptResult` with the outcome; after `waitMs` without it, ask again. */
  | { outcome: 'sent'; waitMs: number };

/** The outcome of an attempt whose request outlived its activity (`sent`), signalled by the worker that sent it. */
export type AttemptResult = { attempt: number; result: DeliverResult };

export type RecoveryInput = { recoveryId: RecoveryId };
