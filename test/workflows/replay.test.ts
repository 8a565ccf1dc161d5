import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historiesDir, readHistory, workflowBundle } from './env.js';

// Determinism: histories recorded from every path of the delivery workflow (test/workflows/delivery.test.ts with
// RECORD_HISTORIES=1, `npm run test:record-histories`) replay against the current workflow code. A change that
// would break running deliveries (an extra timer, activity or upsert before an existing one, without patched())
// fails here. Recorded paths: delivered, retried (the default schedule), failed, paused/resumed, cancelled,
// held/resumed, held for days (continued as new; and, recorded by the code before that existed, held 50 h in one
// run, which the `held-continues-as-new` patch keeps replaying), retryNow, waiting for the fairness gate (woken,
// backstop), detached attempts (signalled, backstop, cancelled); and the retention workflow's rounds
// (test/workflows/retention.test.ts).
const files = readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort();

describe('recorded delivery histories replay against the current workflow code', () => {
  it('has a history for every path', () => {
    expect(files.map((f) => f.replace('.json', ''))).toEqual(
      expect.arrayContaining(['cancelled', 'delivered', 'failed', 'held-resumed', 'paused-resumed', 'retried', 'retry-now', 'waiting-woken', 'waiting-backstop', 'detached', 'detached-backstop', 'detached-cancelled', 'held-continued', 'held-long-before-continue-as-new']),
    );
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = readHistory(join(historiesDir, file));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${file}`);
    });
  }
});
