import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';

const { runRetention } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '5s', maximumInterval: '5m' },
});

export type RetentionResult = { rounds: number; events: number; deliveries: number; attempts: number; recoveries: number; idempotency_keys: number };

/**
 * The retention cleanup, started by the Temporal Schedule `hookrelay-retention`: bounded rounds (each an activity,
 * so progress shows in the Temporal UI) until nothing is left or `maxRounds` ran; the next run continues.
 */
export async function retentionWorkflow(input: { maxRounds?: number } = {}): Promise<RetentionResult> {
  const total: RetentionResult = { rounds: 0, events: 0, deliveries: 0, attempts: 0, recoveries: 0, idempotency_keys: 0 };
  for (let i = 0; i < (input.maxRounds ?? 50); i++) {
    const r = await runRetention();
    total.rounds++;
    total.events += r.events;
    total.deliveries += r.deliveries;
    total.attempts += r.attempts;
    total.recoveries += r.recoveries;
    total.idempotency_keys += r.idempotency_keys;
    if (!r.more) break;
  }
  return total;
}
