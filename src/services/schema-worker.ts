import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { ValidateFunction } from 'ajv';
import { createAjv, failuresOf } from './schema-engine.js';
import type { WorkerReply, WorkerRequest } from './schema-pool.js';

// A thread of the schema pool (services/schema-pool.ts): compiles event type schemas and validates events against
// them, one request at a time. The pool ends the thread if a request outlives its budget.
// Below the event loop's priority (on Linux this thread's own): a costly validation takes CPU the API can spare.
try {
  setPriority(10);
} catch {
  // not allowed here: runs at the process's priority
}
const ajv = createAjv();
const texts = new Map<number, string>();
const compiled = new Map<number, ValidateFunction>();
const KEEP = 500;
class NeedSchema extends Error {}

function validatorOf(id: number): ValidateFunction {
  let v = compiled.get(id);
  if (v) {
    compiled.delete(id); // least recently used goes first
    compiled.set(id, v);
    return v;
  }
  const text = texts.get(id);
  if (text === undefined) throw new NeedSchema();
  v = ajv.compile(JSON.parse(text));
  compiled.set(id, v);
  if (compiled.size > KEEP) {
    const oldest = compiled.keys().next().value!;
    compiled.delete(oldest);
    ajv.removeSchema(); // ajv keeps every compiled schema too
    compiled.clear();
    compiled.set(id, v);
  }
  return v;
}

parentPort!.on('message', (req: WorkerRequest) => {
  let reply: WorkerReply;
  if (req.schema !== undefined) {
    texts.set(req.schemaId, req.schema);
    if (texts.size > 10 * KEEP) texts.delete(texts.keys().next().value!);
  }
  try {
    const validate = validatorOf(req.schemaId);
    reply = { seq: req.seq, failures: req.op === 'validate' ? failuresOf(validate, req.data) : [] };
  } catch (err) {
    // A schema this thread has forgotten is sent again; one ajv cannot compile is reported.
    reply = err instanceof NeedSchema ? { seq: req.seq, needSchema: true } : { seq: req.seq, invalidSchema: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
// ajv's first compile sets up its formats and code generation (a few hundred ms): done before any budget runs.
ajv.compile({ type: 'object', properties: { s: { type: 'string', format: 'date-time' }, a: { type: 'array', uniqueItems: true } } });
ajv.removeSchema();
parentPort!.postMessage({ ready: true });
