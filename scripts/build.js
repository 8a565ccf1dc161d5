// `npm run build`: what production runs. TypeScript compiled to dist/ (tsc -p tsconfig.build.json) and the
// workflow bundle built ahead into dist/workflow-bundle.js, so a worker starts without webpack
// (WORKFLOW_BUNDLE_PATH). `npm start` builds when dist/ is older than the sources; development and tests run
// the sources through tsx.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './stack.js';

export const distDir = join(root, 'dist');
export const bundleFile = join(distDir, 'workflow-bundle.js');
const stampFile = join(distDir, '.built');

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
  const inputs = Math.max(...['src', 'workflows', 'activities', 'portal'].map((d) => newest(join(root, d))), ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => statSync(join(root, f)).mtimeMs));
  return inputs > built;
}

export async function build() {
  rmSync(distDir, { recursive: true, force: true });
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
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
