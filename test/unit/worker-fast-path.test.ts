import { createRequire } from 'node:module';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FAST_PATH_SDK_VERSION, fastPathUnavailable, skipNoopVmWatchdog } from '../../src/worker-vm.js';

// The worker's fast path (WORKER_FAST_PATH) relies on SDK internals. Upgrading @temporalio/* must fail here, loudly,
// until someone has checked the internals again and re-measured the fast path (npm run bench).
describe('worker fast path: the SDK internals it touches', () => {
  it(`are those of @temporalio/worker ${FAST_PATH_SDK_VERSION}, pinned exactly in package.json`, () => {
    const require = createRequire(import.meta.url);
    const pkg = require('../../package.json') as { dependencies: Record<string, string> };
    for (const name of ['activity', 'client', 'common', 'worker', 'workflow']) {
      expect(pkg.dependencies[`@temporalio/${name}`], `@temporalio/${name} must be pinned to an exact version`).toBe(FAST_PATH_SDK_VERSION);
      expect((require(`@temporalio/${name}/package.json`) as { version: string }).version).toBe(FAST_PATH_SDK_VERSION);
    }
    expect(fastPathUnavailable(), 'the SDK internals the fast path uses have changed: re-verify src/worker-vm.ts').toBeNull();
  });

  it('the SDK still asks for the no-op timeout the watchdog patch drops, and the patch keeps real timeouts', () => {
    const require = createRequire(import.meta.url);
    const src = require('node:fs').readFileSync(require.resolve('@temporalio/worker/lib/worker-options.js'), 'utf8') as string;
    // debugMode sets this "infinite" isolate timeout, which reaches runInContext; if the SDK stopped doing so the
    // watchdog patch would be moot (and must be re-measured).
    expect(src).toContain("isolateExecutionTimeout: debugMode ? '4294967295ms'");
    skipNoopVmWatchdog();
    const ctx = vm.createContext({});
    expect(new vm.Script('1 + 1').runInContext(ctx, { timeout: 4294967295 })).toBe(2);
    expect(() => new vm.Script('for(;;){}').runInContext(ctx, { timeout: 20 })).toThrow(/timed out/);
  });
});
