// The floor: what the engine must do for one delivery and nothing else — a workflow started with hookrelay's four
// search attributes, one local activity that returns at once, and the final search-attribute upsert.
import { proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { SA_STATUS } from '../../src/domain/search-attributes.js';

const { noop } = proxyLocalActivities<{ noop(): Promise<void> }>({
  startToCloseTimeout: '2m',
  localRetryThreshold: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export async function floorWorkflow(): Promise<void> {
  await noop();
  upsertSearchAttributes([{ key: SA_STATUS, value: 'delivered' }]);
}
