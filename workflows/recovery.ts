import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { RecoveryInput } from './types.js';

const { runRecovery } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** A recover task (rcv_…): durable, so a crash of the API half-way through still finishes it. */
export async function recoveryWorkflow(input: RecoveryInput): Promise<number> {
  return runRecovery(input);
}
