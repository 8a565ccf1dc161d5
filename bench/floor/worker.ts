// A throwaway process for the bench's `floor` scenario: a Temporal worker with hookrelay's worker settings running
// bench/floor/workflows.ts on its own task queue of the same server, and the starter that feeds it (16 starts in
// flight, like the burst scenario's publishers). Its CPU is the floor's client + worker share.
// IPC: ← {type:'run', count, concurrency}; → {type:'ready'}, {type:'result', startedAt, times, errors}.
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { SA_EVENT_TYPE, SA_ORG_ID, SA_STATUS, SA_WEBHOOK_ID } from '../../src/domain/search-attributes.js';
import { skipNoopVmWatchdog, stopPromiseStackTraces } from '../../src/worker-vm.js';

const address = process.env.TEMPORAL_ADDRESS!;
const taskQueue = 'hookrelay-floor';
const fastPath = process.env.WORKER_FAST_PATH === 'true';
// BENCH_FLOOR_EAGER=true: the starter shares the worker's NativeConnection and asks for eager starts (the first
// workflow task comes back in the start's answer instead of through matching), as the all-in-one process does.
const eager = process.env.BENCH_FLOOR_EAGER === 'true';

const times: number[] = [];
const connection = await NativeConnection.connect({ address });
if (fastPath) skipNoopVmWatchdog();
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
  activities: { async noop() { times.push(performance.now() + performance.timeOrigin); } },
  // hookrelay's worker settings (src/config.ts defaults, src/worker.ts)
  maxConcurrentActivityTaskExecutions: 200,
  maxConcurrentWorkflowTaskExecutions: 100,
  maxCachedWorkflows: 2000,
  debugMode: fastPath,
  shutdownGraceTime: '20s',
});
if (fastPath) stopPromiseStackTraces();
const client = new Client({ connection: eager ? connection : await Connection.connect({ address }) });
let eagerlyStarted = 0;
const running = worker.run();
process.send!({ type: 'ready' });

process.on('message', async (m: { type: string; count: number; concurrency: number }) => {
  if (m.type !== 'run') return;
  const startedAt = performance.now() + performance.timeOrigin;
  let next = 0;
  let errors = 0;
  const one = async () => {
    while (next < m.count) {
      const i = next++;
      try {
        const handle = await client.workflow.start('floorWorkflow', {
          taskQueue,
          requestEagerStart: eager,
          workflowId: `floor/${startedAt}/${i}`,
          args: [],
          typedSearchAttributes: new TypedSearchAttributes([
            { key: SA_WEBHOOK_ID, value: 'wh_floor' }, { key: SA_EVENT_TYPE, value: 'bench.floor' },
            { key: SA_ORG_ID, value: 'org_floor' }, { key: SA_STATUS, value: 'pending' },
          ]),
        });
        if (handle.eagerlyStarted) eagerlyStarted++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: m.concurrency }, one));
  const deadline = Date.now() + 120_000;
  while (times.length < m.count - errors && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300)); // the last workflows' final task (the upsert) completes
  process.send!({ type: 'result', startedAt, times: [...times], errors, eagerlyStarted });
});
process.on('SIGTERM', () => {
  worker.shutdown();
  void running.finally(() => process.exit(0));
});
