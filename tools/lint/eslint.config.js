// The lint gate (scripts/lint.js, run by npm test): promises are awaited or explicitly let go. Temporal's samples
// hold the same rule: a forgotten await on an activity, a signal or a store write is a bug that no test may catch.
import tseslint from 'typescript-eslint';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export default tseslint.config({
  // (probe/: the gate's own test writes a file there that must fail it)
  files: ['src/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts', 'sdks/typescript/src/**/*.ts', 'tools/lint/probe/**/*.ts'],
  languageOptions: {
    parser: tseslint.parser,
    parserOptions: { project: [`${here}/tsconfig.json`], tsconfigRootDir: here },
  },
  plugins: { '@typescript-eslint': tseslint.plugin },
  linterOptions: { reportUnusedDisableDirectives: 'error' },
  rules: {
    '@typescript-eslint/no-floating-promises': 'error',
    '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
  },
});
