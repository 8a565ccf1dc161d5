// The floor: what the engine must do for one delivery and nothing else — a workflow started with hookrelay's four
// search attributes, one local activity that returns at once, and the final search-attribute upsert. With
// BENCH_FLOOR_RECORDS the activity is given the event's id and sends and records it (bench/floor/worker.ts).
import { proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { SA_STATUS } from '../../src/domain/search-attributes.js';

const { noop } = proxyLocalActivities<{ noop(id?: string): Promise<void> }>({
  startToCloseTimeout: '2m',
  localRetryThreshold: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export async function floorWorkflow(id?: string): Promise<void> {
  await noop(id);
  upsertSearchAttributes([{ key: SA_STATUS, value: 'delivered' }]);
}
