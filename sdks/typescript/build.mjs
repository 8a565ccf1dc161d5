// Builds the package: dist/ (ESM, for `import`) and dist/cjs/ (CommonJS, for `require`), each with its .d.ts.
// `npm run build`, and `npm pack` through prepack. One TypeScript source; the CommonJS build compiles a copy of it
// under a package.json that says "commonjs", which is how TypeScript's NodeNext mode picks the output format.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// typescript's package.json exports no bin path: find the package, then its bin.
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
const compile = (project) => execFileSync(process.execPath, [tsc, '-p', project], { cwd: here, stdio: 'inherit' });

rmSync(join(here, 'dist'), { recursive: true, force: true });
compile(join(here, 'tsconfig.json'));

const stage = join(here, '.cjs-build');
rmSync(stage, { recursive: true, force: true });
try {
  cpSync(join(here, 'src'), join(stage, 'src'), { recursive: true });
  writeFileSync(join(stage, 'package.json'), JSON.stringify({ type: 'commonjs' }));
  writeFileSync(
    join(stage, 'tsconfig.json'),
    JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { rootDir: 'src', outDir: '../dist/cjs' }, include: ['src'] }),
  );
  compile(join(stage, 'tsconfig.json'));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
mkdirSync(join(here, 'dist/cjs'), { recursive: true });
writeFileSync(join(here, 'dist/cjs/package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
