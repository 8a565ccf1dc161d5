import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { DeliverRequest, DeliverResult } from '../../workflows/types.js';
import { SA_EVENT_TYPE, SA_ORG_ID, SA_STATUS, SA_WEBHOOK_ID } from '../../src/domain/search-attributes.js';

const SEARCH_ATTRIBUTES = [SA_WEBHOOK_ID, SA_EVENT_TYPE, SA_ORG_ID, SA_STATUS];

export const root = resolve(import.meta.dirname, '../..');
export const historiesDir = join(root, 'test/fixtures/histories');
const testServer = join(process.env.HOOKRELAY_TOOLS_DIR ?? join(root, '.tools'), 'temporal-test-server/run');

/**
 * Temporal's Java time-skipping test server (scripts/tools.sh fetches it): timers fire as soon as nothing else
 * is pending, so the real 24 h schedule runs in seconds. Activities are test doubles registered under the names
 * the workflows proxy.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  if (!existsSync(testServer)) throw new Error(`${testServer} is missing: npm test runs scripts/ensure.js, which fetches it`);
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServer } } });
  // The workflows upsert hookrelay's search attributes; the test server knows them once registered.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;
/** The workflow code bundled once per test file (the same bundler the worker uses). */
export function workflowBundle() {
  bundle ??= bundleWorkflowCode({ workflowsPath: join(root, 'workflows/index.ts'), logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } });
  return bundle;
}

export type Call = { req: DeliverRequest };
/** A `deliver` double answering from a script (the last answer repeats), recording every request. */
export function scriptedDeliver(answers: DeliverResult[]) {
  const calls: Call[] = [];
  const marks: { deliveryId: string; status: string }[] = [];
  return {
    calls,
    marks,
    activities: {
      async deliver(req: DeliverRequest): Promise<DeliverResult> {
        calls.push({ req });
        return answers[Math.min(calls.length - 1, answers.length - 1)];
      },
      async markDelivery(input: { deliveryId: string; status: string }) {
        marks.push(input);
      },
      async runRecovery() {
        return 0;
      },
    },
  };
}

export async function worker(env: TestWorkflowEnvironment, taskQueue: string, activities: object) {
  return Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
}

/** With RECORD_HISTORIES=1 (npm run test:record-histories), a test's history is saved as a replay fixture. */
const History = temporal.api.history.v1.History;

export async function maybeRecord(name: string, history: temporal.api.history.v1.IHistory) {
  if (process.env.RECORD_HISTORIES !== '1') return;
  mkdirSync(historiesDir, { recursive: true });
  // protobufjs' JSON form (longs as strings, enums by name, bytes as base64): readHistory() reads it back exactly.
  const json = History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String });
  writeFileSync(join(historiesDir, `${name}.json`), `${JSON.stringify(json, null, 1)}\n`);
}

export function readHistory(file: string): temporal.api.history.v1.History {
  return History.fromObject(JSON.parse(readFileSync(file, 'utf8')));
}
