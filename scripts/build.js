// `npm run build`: what production runs. TypeScript compiled to dist/ (tsc -p tsconfig.build.json) and the
// workflow bundle built ahead into dist/workflow-bundle.js, so a worker starts without webpack
// (WORKFLOW_BUNDLE_PATH); and the TypeScript SDK package compiled into sdks/typescript/dist/ (ESM, CommonJS, .d.ts,
// what `npm pack` ships and what package.json's `hookrelay/sdk` export points at). `npm start` builds when
// dist/ is older than the sources; the CLI (bin/hookrelay.js) recompiles only the TypeScript (compileIfStale,
// a few seconds, no bundle); development servers and tests run the sources through tsx.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './stack.js';

export const distDir = join(root, 'dist');
export const bundleFile = join(distDir, 'workflow-bundle.js');
const stampFile = join(distDir, '.built');
// Written by every compile of the TypeScript (the full build too): the CLI runs dist/ when it is newer than this.
const compiledStamp = join(distDir, '.compiled');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
export const sdkDir = join(root, 'sdks/typescript');
const codeInputs = ['src', 'workflows', 'activities', 'sdks/typescript/src'];

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** True when dist/ is missing or older than any source file, the tsconfig or the lock file. */
export function buildIsStale() {
  if (!existsSync(stampFile) || !existsSync(bundleFile)) return true;
  const built = statSync(stampFile).mtimeMs;
  const inputs = Math.max(...[...codeInputs, 'portal'].map((d) => newest(join(root, d))), ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => statSync(join(root, f)).mtimeMs));
  return inputs > built;
}

/** The newest mtime of the TypeScript inputs of dist/. */
function newestCode() {
  return Math.max(...codeInputs.map((d) => newest(join(root, d))), ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(root, f)).mtimeMs));
}

/** The SDK package: sdks/typescript/src → sdks/typescript/dist (ESM) and dist/cjs (CommonJS); npm pack runs the same. */
export function buildSdk() {
  // The production image copies only the SDK's source (the CLI's client), not the package: nothing to build there.
  if (!existsSync(join(sdkDir, 'build.mjs'))) return;
  execFileSync(process.execPath, [join(sdkDir, 'build.mjs')], { cwd: sdkDir, stdio: 'inherit' });
}

/**
 * Recompiles dist/ (TypeScript only, in place; no workflow bundle) when it is missing or older than the
 * sources; what bin/hookrelay.js runs before the compiled CLI in a source checkout. One process compiles at a
 * time (a lock directory); the others wait and then find it fresh. Type errors elsewhere in the tree do not stop
 * the CLI (tsc still emits): they are reported on stderr in one line.
 */
export async function compileIfStale() {
  const fresh = () => existsSync(compiledStamp) && existsSync(join(distDir, 'src/cli/index.js')) && statSync(compiledStamp).mtimeMs >= newestCode();
  if (fresh()) return;
  mkdirSync(distDir, { recursive: true });
  const lock = join(distDir, '.compile.lock');
  for (const deadline = Date.now() + 120_000; ; ) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock older than two minutes belongs to a compile that died
      if (Date.now() > deadline || Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (fresh()) return;
    const started = new Date();
    const res = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, encoding: 'utf8' });
    if (!existsSync(join(distDir, 'src/cli/index.js'))) throw new Error(`build: tsc did not compile the CLI:\n${res.stdout}${res.stderr}`);
    if (res.status !== 0) console.error(`build: tsc reported errors (dist/ was compiled anyway; \`npx tsc --noEmit\` lists them)`);
    // Stamped with the time the compile started: a source saved meanwhile makes it stale again.
    writeFileSync(compiledStamp, started.toISOString());
    utimesSync(compiledStamp, started, started);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function build() {
  rmSync(distDir, { recursive: true, force: true });
  const started = new Date();
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  writeFileSync(compiledStamp, started.toISOString());
  utimesSync(compiledStamp, started, started);
  buildSdk();
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({ workflowsPath: join(distDir, 'workflows/index.js'), logger: { info() {}, warn: console.warn, error: console.error, debug() {}, trace() {}, log() {} } });
  writeFileSync(bundleFile, code);
  // The consumer portal's static files, next to the compiled API (src/api/portal.ts reads ../../portal/).
  cpSync(join(root, 'portal'), join(distDir, 'portal'), { recursive: true });
  writeFileSync(stampFile, new Date().toISOString());
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  await build();
  console.log(`build: dist/ and dist/workflow-bundle.js ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
