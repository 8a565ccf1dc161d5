import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_RETRY_SCHEDULE, scheduleToMs } from '../../src/domain/schedule.js';
import { asId } from '../../src/domain/ids.js';
import type { DeliverRequest, DeliveryInput, DeliveryState, DeliverResult } from '../../workflows/types.js';
import { maybeRecord, scriptedDeliver, timeSkippingEnv, worker } from './env.js';
import { HELD_WAITS_PER_RUN } from '../../workflows/delivery.js';

// workflows/delivery.ts on a real Temporal server (the Java time-skipping test server), with the attempt
// activity replaced by a script. The real default schedule — 1m, 5m, 15m, 1h, 4h, 8h, 10h — runs in seconds.
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

const DEFAULT_MS = scheduleToMs(DEFAULT_RETRY_SCHEDULE);
let n = 0;
function input(scheduleMs = DEFAULT_MS): DeliveryInput {
  n++;
  return {
    orgId: asId('org', 'org_T'), webhookId: asId('wh', `wh_T${n}`), eventId: asId('evt', `evt_T${n}`), deliveryId: asId('dlv', `dlv_T${n}`),
    eventType: 'case.complete', scheduleMs, attemptsBefore: 0, body: '{"id":"evt_T"}',
  };
}
// The activity decides the delay (schedule, Retry-After); the double answers with the schedule's next delay.
const retryWith = (scheduleMs: number[], k: number): DeliverResult => ({ outcome: 'retry', delayMs: scheduleMs[k] });

async function run(name: string, answers: DeliverResult[], opts: { input?: DeliveryInput; during?: (h: Awaited<ReturnType<TestWorkflowEnvironment['client']['workflow']['start']>>, s: ReturnType<typeof scriptedDeliver>) => Promise<void> } = {}) {
  const script = scriptedDeliver(answers);
  const taskQueue = `wf-${name}-${n}`;
  const w = await worker(env, taskQueue, script.activities);
  const inp = opts.input ?? input();
  const result = await w.runUntil(async () => {
    const handle = await env.client.workflow.start('deliveryWorkflow', { taskQueue, workflowId: `delivery/${inp.webhookId}/${inp.eventId}`, args: [inp] });
    if (opts.during) await opts.during(handle, script);
    return (await handle.result()) as DeliveryState;
  });
  const history = await env.client.workflow.getHandle(`delivery/${inp.webhookId}/${inp.eventId}`).fetchHistory();
  await maybeRecord(name, history);
  return { result, script };
}

describe('deliveryWorkflow on the time-skipping server', () => {
  it('delivered: one attempt, attempt number 1, ends delivered', async () => {
    const { result, script } = await run('delivered', [{ outcome: 'delivered' }]);
    expect(result).toMatchObject({ status: 'delivered', attempt: 1 });
    expect(script.calls.map((c) => c.req.attempt)).toEqual([1]);
  });

  it('retried on the real default schedule: attempts at 0, 1m, 6m, 21m, 1h21m, 5h21m, 13h21m, 23h21m', async () => {
    const answers = [...DEFAULT_MS.map((_, k) => retryWith(DEFAULT_MS, k)), { outcome: 'delivered' } as DeliverResult];
    const { result, script } = await run('retried', answers);
    expect(result).toMatchObject({ status: 'delivered', attempt: 8 });
    expect(script.calls.map((c) => c.req.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // elapsedSinceFirstMs is workflow time: each wait lasted exactly its delay (durable timers, skipped clock).
    const cumulative = DEFAULT_MS.reduce<number[]>((acc, d) => [...acc, acc[acc.length - 1] + d], [0]);
    const elapsed = script.calls.map((c) => c.req.elapsedSinceFirstMs);
    elapsed.forEach((e, i) => {
      expect(e).toBeGreaterThanOrEqual(cumulative[i]);
      expect(e).toBeLessThan(cumulative[i] + 5_000);
    });
    expect(cumulative[7]).toBe((1 + 5 + 15 + 60 + 240 + 480 + 600) * 60_000);
  }, 60_000);

  it('failed: the activity says the schedule is exhausted after the eighth attempt', async () => {
    const answers = [...DEFAULT_MS.map((_, k) => retryWith(DEFAULT_MS, k)), { outcome: 'failed' } as DeliverResult];
    const { result, script } = await run('failed', answers);
    expect(result).toMatchObject({ status: 'failed', attempt: 8 });
    expect(script.calls).toHaveLength(8);
  }, 60_000);

  it('paused during a retry wait, resumed: holds without attempting, then continues with the next attempt number', async () => {
    const { result, script } = await run('paused-resumed', [retryWith(DEFAULT_MS, 0), { outcome: 'delivered' }], {
      during: async (handle, s) => {
        while (s.calls.length < 1) await new Promise((r) => setTimeout(r, 20));
        await handle.signal('pause');
        // While paused, time passes (an hour of workflow time) and nothing is attempted.
        await env.sleep('1h');
        expect(s.calls).toHaveLength(1);
        expect((await handle.query('status')) as DeliveryState).toMatchObject({ paused: true });
        await handle.signal('resume');
      },
    });
    expect(result).toMatchObject({ status: 'delivered', attempt: 2 });
    expect(script.calls.map((c) => c.req.attempt)).toEqual([1, 2]);
    expect(script.marks).toContainEqual(expect.objectContaining({ status: 'paused' }));
  }, 60_000);

  it('cancelled (webhook deleted) during a retry wait: no further attempt, recorded cancelled', async () => {
    const { result, script } = await run('cancelled', [retryWith(DEFAULT_MS, 0), { outcome: 'delivered' }], {
      during: async (handle, s) => {
        while (s.calls.length < 1) await new Promise((r) => setTimeout(r, 20));
        await handle.signal('cancel');
      },
    });
    expect(result).toMatchObject({ status: 'cancelled', attempt: 1 });
    expect(script.calls).toHaveLength(1);
    expect(script.marks).toContainEqual(expect.objectContaining({ status: 'cancelled' }));
  });

  it('held while the webhook is disabled: waits for resume without burning an attempt', async () => {
    const { result, script } = await run('held-resumed', [{ outcome: 'held' }, { outcome: 'delivered' }], {
      during: async (handle, s) => {
        while (s.calls.length < 1) await new Promise((r) => setTimeout(r, 20));
        await env.sleep('30m');
        expect(s.calls).toHaveLength(1);
        await handle.signal('resume');
      },
    });
    expect(result).toMatchObject({ status: 'delivered', attempt: 1 });
    expect(script.calls.map((c) => c.req.attempt)).toEqual([1, 1]);
  });

  it(`held for days (webhook paused): continues as new after ${HELD_WAITS_PER_RUN} hourly re-checks, carrying its state, and delivers after the resume`, async () => {
    // A delivery held after two failed attempts: the next run must go on from attempt 3 and the schedule's third delay.
    const inp = { ...input(), attemptsBefore: 0 };
    let resumed = false;
    const calls: DeliverRequest[] = [];
    const activities = {
      async deliver(req: DeliverRequest): Promise<DeliverResult> {
        calls.push(req);
        if (calls.length <= 2) return retryWith(DEFAULT_MS, calls.length - 1);
        return resumed ? { outcome: 'delivered' } : { outcome: 'held' };
      },
      async markDelivery() {},
      async runRecovery() {
        return 0;
      },
    };
    const taskQueue = `wf-held-continued-${n}`;
    const w = await worker(env, taskQueue, activities);
    const workflowId = `delivery/${inp.webhookId}/${inp.eventId}`;
    const { result, firstRunId } = await w.runUntil(async () => {
      const handle = await env.client.workflow.start('deliveryWorkflow', { taskQueue, workflowId, args: [inp] });
      while (calls.length < 1) await new Promise((r) => setTimeout(r, 20));
      // Two days and a bit of workflow time (the two retries, then on hold): two fresh runs, each after HELD_WAITS_PER_RUN re-checks.
      await env.sleep(`${2 * HELD_WAITS_PER_RUN + 2}h`);
      resumed = true;
      await handle.signal('resume');
      return { result: (await handle.result()) as DeliveryState, firstRunId: handle.firstExecutionRunId };
    });
    expect(result).toMatchObject({ status: 'delivered', attempt: 3 });
    // Every re-check and the final send asked for attempt 3, with the schedule's position and the first attempt's time kept.
    const held = calls.slice(2);
    expect(held.length).toBeGreaterThan(2 * HELD_WAITS_PER_RUN);
    expect(new Set(held.map((c) => c.attempt))).toEqual(new Set([3]));
    expect(new Set(held.map((c) => c.attemptInRun))).toEqual(new Set([3]));
    const last = held[held.length - 1];
    expect(last.elapsedSinceFirstMs).toBeGreaterThanOrEqual(DEFAULT_MS[0] + DEFAULT_MS[1] + 2 * HELD_WAITS_PER_RUN * 3600_000);
    // The runs, first to last: every one but the last ended continued-as-new, each with a bounded history.
    const histories = [];
    for (let runId: string | null | undefined = firstRunId; runId; ) {
      const h = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      histories.push(h);
      runId = h.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    }
    expect(histories.length).toBe(3);
    for (const h of histories) expect(h.events!.length).toBeLessThan(20 + HELD_WAITS_PER_RUN * 10);
    expect((await env.client.workflow.getHandle(workflowId, firstRunId).describe()).status.name).toBe('CONTINUED_AS_NEW');
    await maybeRecord('held-continued', histories[0]);
  }, 120_000);

  it('retryNow cuts a 4 h wait short', async () => {
    const schedule = [4 * 3600_000];
    const { result, script } = await run('retry-now', [retryWith(schedule, 0), { outcome: 'delivered' }], {
      input: input(schedule),
      during: async (handle, s) => {
        while (s.calls.length < 1) await new Promise((r) => setTimeout(r, 20));
        await handle.signal('retryNow');
      },
    });
    expect(result).toMatchObject({ status: 'delivered', attempt: 2 });
    expect(script.calls[1].req.elapsedSinceFirstMs).toBeLessThan(3600_000);
  });

  it('waiting for room at the gate: no attempt burned, woken by the gate, then sent with the same attempt number', async () => {
    const { result, script } = await run('waiting-woken', [{ outcome: 'waiting', reason: 'endpoint_in_flight', delayMs: 15 * 60_000 }, { outcome: 'delivered' }], {
      during: async (handle, s) => {
        while (s.calls.length < 1) await new Promise((r) => setTimeout(r, 20));
        // It waits (the Temporal UI's status says so) and asks nothing more until woken.
        await env.sleep('5m');
        expect(s.calls).toHaveLength(1);
        expect(await handle.query('status')).toMatchObject({ status: 'pending', waiting: 'endpoint_in_flight', attempt: 0 });
        await handle.signal('wake');
      },
    });
    expect(result).toMatchObject({ status: 'delivered', attempt: 1, waiting: null });
    expect(script.calls.map((c) => c.req.attempt)).toEqual([1, 1]);
    // The second call knows the delivery record says it waits (so it clears it once sent).
    expect(script.calls[1].req.waited).toBe('endpoint_in_flight');
  });

  it('waiting without a wake-up (its worker died): asks again at the backstop', async () => {
    const { result, script } = await run('waiting-backstop', [{ outcome: 'waiting', reason: 'application_share', delayMs: 60_000 }, { outcome: 'delivered' }]);
    expect(result).toMatchObject({ status: 'delivered', attempt: 1 });
    expect(script.calls.map((c) => c.req.attempt)).toEqual([1, 1]);
  });

  it('a detached attempt: its outcome comes as a signal and the schedule goes on from it', async () => {
    const { result, script } = await run('detached', [{ outcome: 'sent', waitMs: 45_000 }, { outcome: 'delivered' }], {
      during: async (handle, s) => {
        while (s.calls.length < 1) await new Promise((r) => setTimeout(r, 20));
        await handle.signal('attemptResult', { attempt: 1, result: retryWith(DEFAULT_MS, 0) });
      },
    });
    expect(result).toMatchObject({ status: 'delivered', attempt: 2 });
    expect(script.calls.map((c) => c.req.attempt)).toEqual([1, 2]);
    expect(script.calls[1].req.elapsedSinceFirstMs).toBeGreaterThanOrEqual(DEFAULT_MS[0]);
  });

  it('a detached attempt whose outcome never comes (its worker died) is asked for again with the same number', async () => {
    const { result, script } = await run('detached-backstop', [{ outcome: 'sent', waitMs: 45_000 }, { outcome: 'delivered' }]);
    expect(result).toMatchObject({ status: 'delivered', attempt: 1 });
    expect(script.calls.map((c) => c.req.attempt)).toEqual([1, 1]);
  });

  it('cancelled while a detached attempt is in flight: waits for its outcome, then ends cancelled', async () => {
    const { result, script } = await run('detached-cancelled', [{ outcome: 'sent', waitMs: 45_000 }], {
      during: async (handle, s) => {
        while (s.calls.length < 1) await new Promise((r) => setTimeout(r, 20));
        await handle.signal('cancel');
        await handle.signal('attemptResult', { attempt: 1, result: retryWith(DEFAULT_MS, 0) });
      },
    });
    expect(result).toMatchObject({ status: 'cancelled', attempt: 1 });
    expect(script.calls).toHaveLength(1);
    expect(script.marks).toContainEqual(expect.objectContaining({ status: 'cancelled' }));
  });
});
