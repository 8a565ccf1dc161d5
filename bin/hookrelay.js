#!/usr/bin/env node
// The hookrelay CLI, compiled: runs dist/src/cli/index.js (`npm run build`; the production image ships dist/).
// In a source checkout (scripts/build.js is there) it first recompiles the TypeScript when dist/ is missing or
// older than the sources: tsc only, a few seconds, no workflow bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const builder = new URL('../scripts/build.js', import.meta.url);
if (existsSync(fileURLToPath(builder))) {
  const { compileIfStale } = await import(builder.href);
  await compileIfStale();
}
await import(new URL('../dist/src/cli/index.js', import.meta.url).href);
