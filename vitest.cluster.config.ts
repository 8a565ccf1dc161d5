import { defineConfig } from 'vitest/config';

// The cluster profile (scripts/cluster.js): the same integration tests as on the embedded stack, against the
// real Temporal server on PostgreSQL, FerretDB on PostgreSQL, two API processes and two workers, plus the
// tests that only a multi-process deployment can run (test/cluster/).
export default defineConfig({
  test: {
    include: ['test/integration/delivery.test.ts', 'test/integration/fairness.test.ts', 'test/cluster/*.test.ts'],
    globalSetup: ['test/support/cluster-setup.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 240_000,
    reporters: ['default'],
  },
});
