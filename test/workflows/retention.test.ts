import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { maybeRecord, timeSkippingEnv, worker } from './env.js';

// workflows/retention.ts on the time-skipping test server, its activity scripted: rounds until one reports no
// more work, or the cap; totals summed.
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

const round = (n: number, more: boolean) => ({ events: n, deliveries: n, attempts: 2 * n, recoveries: 0, idempotency_keys: 1, more });

describe('retention workflow', () => {
  it('runs rounds until nothing is left, summing what each deleted', async () => {
    const answers = [round(500, true), round(500, true), round(7, false)];
    let calls = 0;
    const w = await worker(env, 'retention', { runRetention: async () => answers[calls++] });
    const { handle, result } = await w.runUntil(async () => {
      const h = await env.client.workflow.start('retentionWorkflow', { taskQueue: 'retention', workflowId: 'retention-1', args: [{}] });
      return { handle: h, result: await h.result() };
    });
    expect(result).toEqual({ rounds: 3, events: 1007, deliveries: 1007, attempts: 2014, recoveries: 0, idempotency_keys: 3 });
    await maybeRecord('retention', await handle.fetchHistory());
  });

  it('stops at maxRounds; the next scheduled run continues', async () => {
    let calls = 0;
    const w = await worker(env, 'retention-cap', { runRetention: async () => (calls++, round(500, true)) });
    const result = await w.runUntil(env.client.workflow.execute('retentionWorkflow', { taskQueue: 'retention-cap', workflowId: 'retention-2', args: [{ maxRounds: 4 }] }));
    expect(result.rounds).toBe(4);
    expect(calls).toBe(4);
  });
});
