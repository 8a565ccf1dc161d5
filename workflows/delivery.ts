import {
  CancellationScope, condition, continueAsNew, defineQuery, defineSignal, isCancellation, patched, proxyLocalActivities,
  setHandler, upsertSearchAttributes,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { SA_STATUS } from '../src/domain/search-attributes.js';
import type { AttemptResult, DeliverResult, DeliveryInput, DeliveryState } from './types.js';
import type { WaitReason } from '../src/domain/fair-gate.js';

// Attempts run as local activities: the POST happens inside the workflow task that decided to make it, so a
// delivery costs one workflow task instead of two plus an activity task (measured: about a third less Temporal
// work per delivery). A worker that dies mid-attempt times out its workflow task and another worker re-runs
// the attempt (at-least-once, same webhook-id). The POST has its own timeout (≤ 60 s); infrastructure failures
// (MongoDB down) are retried without burning an attempt of the customer's schedule.
const { deliver, markDelivery } = proxyLocalActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '2m',
  localRetryThreshold: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal('cancel');
/** Skip the current wait and attempt now (POST /v1/deliveries/{id}/retry on a running delivery). */
export const retryNowSignal = defineSignal('retryNow');
export const statusQuery = defineQuery<DeliveryState>('status');
/** The worker's fairness gate has room for this delivery's attempt now (docs/architecture.md, "Fairness"). */
export const wakeSignal = defineSignal('wake');
/** The outcome of an attempt whose request outlived its activity (`sent`). */
export const attemptResultSignal = defineSignal<[AttemptResult]>('attemptResult');

/** Re-check a held delivery this often even without a resume signal, so a lost signal never strands it. */
const HELD_RECHECK = '1h';
/**
 * A held delivery continues as new after this many re-checks without a resume (a day at HELD_RECHECK): each costs
 * about 8 history events, so a webhook paused for months would otherwise walk its deliveries toward Temporal's
 * history limits. The new run carries the attempt count, the schedule's position and the first attempt's time.
 */
export const HELD_WAITS_PER_RUN = 24;

/**
 * One delivery of one event to one webhook. Owns the attempt counter, the retry schedule (durable timers)
 * and the pause state; every attempt is one `deliver` activity, which does the I/O and records the outcome.
 */
export async function deliveryWorkflow(input: DeliveryInput): Promise<DeliveryState> {
  const state: DeliveryState = { status: 'pending', attempt: input.attemptsBefore, paused: false, next_attempt_at: null, waiting: null };
  // A run continued from a held one (HELD_WAITS_PER_RUN) goes on where it left off.
  let attemptsInRun = input.attemptsInRunBefore ?? 0;
  let firstAttemptAt: number | null = input.firstAttemptAt ?? null;
  let heldWaits = 0;
  let cancelled = false;
  let resumes = 0;
  let retryNow = false;
  let woken = false;
  /** Outcomes of attempts sent and answered after their activity returned, by attempt number. */
  const answers = new Map<number, DeliverResult>();
  /** The delivery record was marked waiting for this reason (cleared by the attempt that is sent). */
  let waited: WaitReason | undefined;

  setHandler(pauseSignal, () => {
    state.paused = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    resumes++;
  });
  setHandler(cancelSignal, () => {
    cancelled = true;
  });
  setHandler(retryNowSignal, () => {
    retryNow = true;
    state.paused = false;
    resumes++;
  });
  setHandler(statusQuery, () => state);
  setHandler(wakeSignal, () => {
    woken = true;
  });
  setHandler(attemptResultSignal, ({ attempt, result }) => {
    if (result.outcome !== 'sent') answers.set(attempt, result);
  });

  const finish = async (status: DeliveryState['status']) => {
    state.status = status;
    state.next_attempt_at = null;
    upsertSearchAttributes([{ key: SA_STATUS, value: status }]);
    return state;
  };

  try {
    for (;;) {
      if (state.paused) {
        upsertSearchAttributes([{ key: SA_STATUS, value: 'paused' }]);
        // The pauser wrote `paused` too, but an attempt finishing at that moment may have written over it.
        // (patched: histories of runs that paused before this step existed replay without it)
        if (!cancelled && patched('pause-marks-delivery')) await markDelivery({ deliveryId: input.deliveryId, status: 'paused' });
        // Bounded like a held delivery: if a resume signal never comes, the attempt below asks the webhook itself.
        await condition(() => !state.paused || cancelled, HELD_RECHECK);
        state.paused = false;
        if (!cancelled) upsertSearchAttributes([{ key: SA_STATUS, value: 'pending' }]);
      }
      if (cancelled) {
        await markDelivery({ deliveryId: input.deliveryId, status: 'cancelled' });
        return finish('cancelled');
      }
      const seenResumes = resumes;
      firstAttemptAt ??= Date.now();
      const attempt = state.attempt + 1;
      woken = false;
      let result = await deliver({
        ...input,
        attempt,
        attemptInRun: attemptsInRun + 1,
        elapsedSinceFirstMs: Date.now() - firstAttemptAt,
        ...(waited ? { waited } : {}),
      });
      if (result.outcome === 'sent') {
        // The request is in flight in the worker, which signals its outcome. A cancel waits for it too: the answer
        // is recorded when it comes, and a delivered delivery stays delivered. Without a signal by `waitMs` (the
        // worker died), the attempt is asked for again: the recorded answer, or a new send of the same attempt.
        waited = undefined;
        if (state.waiting) {
          state.waiting = null;
          upsertSearchAttributes([{ key: SA_STATUS, value: 'pending' }]);
        }
        await condition(() => answers.has(attempt), result.waitMs);
        const answer = answers.get(attempt);
        answers.clear();
        if (!answer) continue;
        result = answer;
      } else if (result.outcome !== 'waiting') {
        waited = undefined;
        state.waiting = null;
      }
      switch (result.outcome) {
        case 'delivered':
          state.attempt++;
          return finish('delivered');
        case 'failed':
          state.attempt++;
          // A retry requested while this attempt was in flight gets one more attempt rather than being lost.
          if (retryNow) {
            retryNow = false;
            attemptsInRun = input.scheduleMs.length;
            break;
          }
          return finish('failed');
        case 'cancelled':
          return finish('cancelled');
        case 'held':
          // The webhook is disabled: wait for a resume without burning an attempt.
          state.paused = true;
          upsertSearchAttributes([{ key: SA_STATUS, value: 'paused' }]);
          if (!(await condition(() => resumes > seenResumes || cancelled, HELD_RECHECK)) && !cancelled && resumes === seenResumes) {
            // Held a whole re-check without a resume: after HELD_WAITS_PER_RUN of them, a fresh run goes on holding.
            // (patched: a run that held that long before this step existed replays without it)
            if (++heldWaits >= HELD_WAITS_PER_RUN && patched('held-continues-as-new')) {
              await continueAsNew<typeof deliveryWorkflow>({
                ...input,
                attemptsBefore: state.attempt,
                attemptsInRunBefore: attemptsInRun,
                ...(firstAttemptAt !== null ? { firstAttemptAt } : {}),
              });
            }
          }
          state.paused = false;
          break;
        case 'throttled':
          await condition(() => cancelled, result.delayMs);
          break;
        case 'waiting':
          // No room to send it now (the endpoint's bound, the application's share, the worker's capacity): wait
          // for the gate's wake-up, or the backstop if this worker goes away. No attempt of the schedule is burned.
          waited = result.reason;
          if (state.waiting !== result.reason) {
            state.waiting = result.reason;
            upsertSearchAttributes([{ key: SA_STATUS, value: 'waiting' }]);
          }
          await condition(() => woken || cancelled || state.paused, result.delayMs);
          break;
        case 'sent':
          break;
        case 'retry':
          state.attempt++;
          attemptsInRun++;
          // A retry asked for while the attempt was in flight skips the wait.
          state.next_attempt_at = new Date(Date.now() + result.delayMs).toISOString();
          await condition(() => cancelled || retryNow, result.delayMs);
          retryNow = false;
          state.next_attempt_at = null;
          break;
      }
    }
  } catch (err) {
    // Cancelled from the Temporal UI or API: record it in the delivery log before ending.
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => markDelivery({ deliveryId: input.deliveryId, status: 'cancelled' }));
    }
    throw err;
  }
}
