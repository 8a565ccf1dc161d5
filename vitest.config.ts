import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/cluster/ runs on the cluster profile only (vitest.cluster.config.ts).
    exclude: ['test/cluster/**', 'test/logs/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Two cores and one shared stack: files run one after another, tests inside a file in order.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
