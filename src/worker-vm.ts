import { createRequire } from 'node:module';
import vm from 'node:vm';
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared.js';

// The worker's fast path (WORKER_FAST_PATH, off by default; on in the embedded single-machine stack): workflows
// on the main thread (`debugMode`), without a watchdog thread per sandbox call, without the per-promise
// stack-trace hook. It touches SDK internals; it was measured and verified with exactly this SDK version, and
// test/unit/worker-fast-path.test.ts fails when the version or the internals change.
export const FAST_PATH_SDK_VERSION = '1.24.0';

/** Why the fast path cannot be used with the installed SDK, or null if it can. */
export function fastPathUnavailable(): string | null {
  const version = (createRequire(import.meta.url)('@temporalio/worker/package.json') as { version: string }).version;
  if (version !== FAST_PATH_SDK_VERSION) return `@temporalio/worker is ${version}; the fast path was verified with ${FAST_PATH_SDK_VERSION}`;
  const handlers = globalHandlers as unknown as Record<string, unknown>;
  for (const field of ['install', 'stopPromiseHook']) {
    if (typeof handlers?.[field] !== 'function') return `SDK internals changed: globalHandlers.${field} is not a function`;
  }
  if (!('promiseHookInstalled' in handlers) || !('installed' in handlers)) return 'SDK internals changed: globalHandlers lacks installed/promiseHookInstalled';
  if (typeof vm.Script.prototype.runInContext !== 'function') return 'node:vm Script#runInContext is missing';
  return null;
}

/**
 * Temporal's workflow sandbox enters the workflow's V8 context through `vm.Script#runInContext` with a timeout
 * (its deadlock detector). Node implements that timeout by starting and joining a watchdog thread on every call:
 * ~86 µs on this machine against ~1 µs without, and a workflow task makes dozens of such calls. With
 * `debugMode` the SDK runs workflows on the main thread and asks for the maximum timeout (4294967295 ms, i.e.
 * none); this drops that no-op timeout so no watchdog is started. hookrelay's workflows are short, loop-free and
 * deterministic; a stuck workflow task would still be timed out and retried by the Temporal server.
 */
const NO_TIMEOUT = 4294967295;

export function skipNoopVmWatchdog(): void {
  const proto = vm.Script.prototype as vm.Script & { __hookrelayPatched?: boolean };
  if (proto.__hookrelayPatched) return;
  const original = proto.runInContext;
  proto.runInContext = function runInContext(this: vm.Script, context: vm.Context, options?: vm.RunningScriptOptions) {
    if (options?.timeout === NO_TIMEOUT) {
      const { timeout: _, ...rest } = options;
      return original.call(this, context, rest);
    }
    return original.call(this, context, options);
  };
  proto.__hookrelayPatched = true;
}

/**
 * The SDK records a stack trace for every promise created in the process (a V8 promise hook, installed for the
 * Web UI's "Stack Trace" view of a running workflow). On the main thread it runs for every promise of the
 * activities too (MongoDB, HTTP) and compiles a function per promise: ~15 % of the worker's CPU in the bench
 * profile. Turned off after the worker is created; the stack-trace query then answers that traces are disabled.
 */
export function stopPromiseStackTraces(): boolean {
  const handlers = globalHandlers as unknown as { installed: boolean; stopPromiseHook?: () => void; promiseHookInstalled: boolean };
  // SDK internals: if this copy of the module is not the one the worker installed, or the field was renamed, say so.
  if (!handlers.installed || typeof handlers.stopPromiseHook !== 'function') return false;
  handlers.stopPromiseHook();
  handlers.promiseHookInstalled = false;
  return true;
}
