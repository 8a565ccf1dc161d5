// A throwaway process for the bench's `floor` scenario: a Temporal worker with hookrelay's worker settings running
// bench/floor/workflows.ts on its own task queue of the same server, and the starter that feeds it (16 starts in
// flight, like the burst scenario's publishers). Its CPU is the floor's client + worker share.
// IPC: ← {type:'run', count, concurrency}; → {type:'ready'}, {type:'result', startedAt, times, errors}.
//
// BENCH_FLOOR_RECORDS=true (with MONGODB_URL, MONGODB_DB and RECEIVER_URL): the design's floor. Each start is preceded
// by one insert of the event with its delivery in the same document (the least a durable accept can write), and
// the local activity signs and POSTs the event to a real receiver, then records the attempt and the outcome in one
// update of that document: the engine plus the least this design must store and send per delivery, written
// the plainest way (one driver call each, no batching, no cache), on the same FerretDB as the stack.
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { Agent, request } from 'undici';
import { generateSecret, signatureHeader } from '../../src/domain/signature.js';
import { payload } from '../lib/api.js';
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

const records = process.env.BENCH_FLOOR_RECORDS === 'true';
const mongo = records ? await new MongoClient(process.env.MONGODB_URL!).connect() : null;
const events = mongo?.db(process.env.MONGODB_DB!).collection<{ _id: string; [k: string]: unknown }>('floor_events');
const secret = generateSecret();
const bodies = new Map<string, { type: unknown; timestamp: unknown; data: unknown }>();
const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000, connections: 32 });

/** The design floor's attempt: sign, POST, record attempt + outcome in one update. */
async function attempt(id: string): Promise<void> {
  // Like hookrelay's all-in-one process, the event just stored is read from memory (the store when it is not there).
  const doc = bodies.get(id) ?? (await events!.findOne({ _id: id }, { projection: { type: 1, data: 1, timestamp: 1 } }));
  bodies.delete(id);
  const body = JSON.stringify({ id, type: doc!.type, timestamp: doc!.timestamp, data: doc!.data });
  const ts = Math.floor(Date.now() / 1000);
  const started = new Date();
  const res = await request(process.env.RECEIVER_URL!, {
    method: 'POST', body, dispatcher: agent, signal: AbortSignal.timeout(15_000),
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader([secret], id, ts, body) },
  });
  const text = await res.body.text();
  await events!.updateOne({ _id: id }, {
    $set: { 'delivery.status': res.statusCode < 300 ? 'delivered' : 'failing', 'delivery.updated_at': new Date() },
    $push: { 'delivery.attempts': { n: 1, started_at: started, status: res.statusCode, body: text.slice(0, 1024), duration_ms: Date.now() - started.getTime() } } as never,
  });
}

const times: number[] = [];
const connection = await NativeConnection.connect({ address });
if (fastPath) skipNoopVmWatchdog();
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
  activities: {
    async noop(id?: string) {
      if (records) await attempt(id!);
      times.push(performance.now() + performance.timeOrigin);
    },
  },
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
        const workflowId = `floor/${startedAt}/${i}`;
        if (records) {
          const event = { type: 'bench.floor', timestamp: new Date().toISOString(), data: payload('floor', i) };
          await events!.insertOne({ _id: workflowId, ...event, delivery: { webhook_id: 'wh_floor', status: 'pending', attempts: [] } });
          bodies.set(workflowId, event);
        }
        const handle = await client.workflow.start('floorWorkflow', {
          taskQueue,
          requestEagerStart: eager,
          workflowId,
          args: records ? [workflowId] : [],
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
  void mongo?.close();
  void running.finally(() => process.exit(0));
});
