// The lint gate (run by npm test through test/unit/lint.test.ts; `node scripts/lint.js` alone): typescript-eslint's
// no-floating-promises and no-misused-promises over src/, activities/, workflows/ and the TypeScript SDK. Its tools
// live in tools/lint (their own package: typescript-eslint needs a TypeScript below 6.1, the project builds with 7),
// installed here when missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './stack.js';

const dir = join(root, 'tools/lint');
const marker = join(dir, 'node_modules', '.package-lock.json');
const lock = join(dir, 'package-lock.json');
if (!existsSync(marker) || statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000) {
  console.log('lint: installing eslint and typescript-eslint into tools/lint…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
}
const globs = ['src/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts', 'sdks/typescript/src/**/*.ts'];
const res = spawnSync(join(dir, 'node_modules/.bin/eslint'), ['--config', join(dir, 'eslint.config.js'), '--max-warnings', '0', ...globs], { cwd: root, stdio: 'inherit' });
if (res.status === 0) console.log('lint: no floating or misused promises');
process.exit(res.status ?? 1);
