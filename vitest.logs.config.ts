import { defineConfig } from 'vitest/config';

// Runs after the embedded and cluster profiles (scripts/test.js) over the logs they kept: no stack of its own.
export default defineConfig({
  test: { include: ['test/logs/*.test.ts'], reporters: ['default'] },
});
