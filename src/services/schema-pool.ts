import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';
import type { SchemaFailure } from './schema-engine.js';

/**
 * Customers' JSON Schemas run off the event loop, each request within a budget. Validation cost is the product of
 * the schema and the data (`uniqueItems`, large `enum`s, formats, `$ref`s and combinators nested in each other:
 * some are exponential in the schema's size), so no limit on either alone bounds it. The API's event loop only
 * sends the request to a thread of this pool and reads the answer; a request that takes longer than its budget
 * ends its thread (a new one takes its place) and is answered as too costly to validate.
 */

/** What one event's data may cost to validate (wall time in a thread), and one request's events together. */
export const VALIDATION_BUDGET_MS = 1000;
/** Compiling a schema when it is saved. */
export const COMPILE_BUDGET_MS = 2000;
/** Threads: leave a core to the event loop (1 on a 2-core machine), at most 2. */
const THREADS = Math.max(1, Math.min(2, availableParallelism() - 1));
/** Requests waiting for a thread before the next is answered 503 (retry shortly). */
const MAX_WAITING = 2000;
/** Heap of one thread: a validation that would grow past it (errors of a huge array) ends like one over budget. */
const THREAD_HEAP_MB = 256;

export type WorkerRequest = { seq: number; op: 'compile' | 'validate'; schemaId: number; schema?: string; data?: unknown };
export type WorkerReply = { seq: number; failures?: SchemaFailure[]; invalidSchema?: string; needSchema?: boolean };
type Outcome =
  | { kind: 'ok' }
  | { kind: 'failures'; failures: SchemaFailure[] }
  | { kind: 'invalid_schema'; message: string }
  | { kind: 'over_budget' }
  | { kind: 'broken'; message: string };
/** `ms`: how long a thread worked on it (waiting for a thread not counted). */
export type SchemaOutcome = Outcome & { ms: number };

type Job = { op: 'compile' | 'validate'; schema: string; data?: unknown; budgetMs: number; done: (o: Outcome) => void; onStart?: () => void };
type Slot = { worker: Worker; ready: boolean; known: Set<number>; job: Job | null; seq: number; timer: NodeJS.Timeout | null };

function spawn(): Worker {
  const options = { resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB } };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./schema-worker.js', import.meta.url), options);
  // Sources run through tsx (development, tests): the thread registers tsx before loading the worker's source.
  const tsx = new URL('dist/esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
  const entry = new URL('./schema-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => import(${JSON.stringify(entry)}))`, { ...options, eval: true });
}

const schemaIds = new Map<string, number>();
let nextSchemaId = 1;
const idOf = (schema: string) => {
  let id = schemaIds.get(schema);
  if (id === undefined) {
    if (schemaIds.size >= 10_000) schemaIds.clear(); // ids are never reused: a thread's copy of an old one is only unused
    schemaIds.set(schema, (id = nextSchemaId++));
  }
  return id;
};

const slots: Slot[] = [];
const waiting: Job[] = [];
let seq = 0;
let startupFailures = 0;

function newSlot(): Slot {
  const slot: Slot = { worker: spawn(), ready: false, known: new Set(), job: null, seq: 0, timer: null };
  slot.worker.unref(); // a thread never keeps the process alive
  slot.worker.on('message', (m: WorkerReply | { ready: true }) => {
    if ('ready' in m) {
      slot.ready = true;
      return next();
    }
    const job = slot.job;
    if (!job || m.seq !== slot.seq) return;
    if (m.needSchema) {
      slot.known.delete(idOf(job.schema));
      return post(slot, job);
    }
    finish(slot);
    startupFailures = 0;
    if (m.invalidSchema !== undefined) job.done({ kind: 'invalid_schema', message: m.invalidSchema });
    else if (m.failures!.length) job.done({ kind: 'failures', failures: m.failures! });
    else job.done({ kind: 'ok' });
    next();
  });
  // A thread that dies (out of memory, or ended by the budget) is replaced; its request counts as over budget.
  const gone = () => {
    const i = slots.indexOf(slot);
    if (i < 0) return;
    slots.splice(i, 1);
    const job = slot.job;
    if (slot.timer) clearTimeout(slot.timer);
    slot.job = null;
    if (job) job.done({ kind: 'over_budget' });
    // A thread that cannot start (a broken install) must not be respawned in a loop: fail what waits instead.
    if (!slot.ready && ++startupFailures >= 3) {
      startupFailures = 0;
      for (const w of waiting.splice(0)) w.done({ kind: 'broken', message: 'the schema validation thread does not start' });
      return;
    }
    next();
  };
  slot.worker.on('error', gone);
  slot.worker.on('exit', gone);
  return slot;
}

function finish(slot: Slot) {
  if (slot.timer) clearTimeout(slot.timer);
  slot.timer = null;
  slot.job = null;
}

function post(slot: Slot, job: Job) {
  const schemaId = idOf(job.schema);
  const req: WorkerRequest = { seq: (slot.seq = ++seq), op: job.op, schemaId, data: job.data };
  if (!slot.known.has(schemaId)) {
    req.schema = job.schema;
    if (slot.known.size >= 20_000) slot.known.clear(); // the thread forgets too: it asks again (needSchema)
    slot.known.add(schemaId);
  }
  slot.worker.postMessage(req);
}

function run(slot: Slot, job: Job) {
  slot.job = job;
  job.onStart?.();
  post(slot, job);
  slot.timer = setTimeout(() => {
    slot.timer = null;
    void slot.worker.terminate(); // 'exit' answers the job over budget and replaces the thread
  }, job.budgetMs);
}

function next() {
  while (slots.length < THREADS) slots.push(newSlot());
  for (const slot of slots) {
    if (!waiting.length) return;
    if (slot.ready && !slot.job) run(slot, waiting.shift()!);
  }
}

function submit(job: Omit<Job, 'done' | 'onStart'>): Promise<SchemaOutcome> {
  if (waiting.length >= MAX_WAITING) {
    throw new AppError(503, 'overloaded', 'too many events wait for schema validation; the request had no effect, retry shortly', [], { 'retry-after': '1' });
  }
  return new Promise((resolve) => {
    let started = 0;
    const done = (o: Outcome) => resolve({ ...o, ms: started ? Math.round(performance.now() - started) : 0 });
    waiting.push({ ...job, done, onStart: () => (started = performance.now()) } as Job);
    next();
  });
}

/** Compiles a schema (JSON text) in a thread: is it a JSON Schema ajv accepts, at a bounded cost? */
export const compileInPool = (schema: string) => submit({ op: 'compile', schema, budgetMs: COMPILE_BUDGET_MS });

/** Validates data against a schema (JSON text) in a thread, within `budgetMs`. */
export const validateInPool = (schema: string, data: unknown, budgetMs = VALIDATION_BUDGET_MS) => submit({ op: 'validate', schema, data, budgetMs });
