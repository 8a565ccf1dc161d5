import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 25, item 10 (and the house rule "a lint gate keeps promises awaited"): scripts/lint.js must pass on the
// tree, and must fail on a promise left floating.
const root = join(import.meta.dirname, '..', '..');
const lint = (files?: string[]) =>
  files
    ? spawnSync(join(root, 'tools/lint/node_modules/.bin/eslint'), ['--config', join(root, 'tools/lint/eslint.config.js'), ...files], { cwd: root, encoding: 'utf8' })
    : spawnSync(process.execPath, [join(root, 'scripts/lint.js')], { cwd: root, encoding: 'utf8' });

describe('the lint gate', () => {
  it('finds no floating or misused promise in src/, activities/, workflows/ and the SDK', () => {
    const res = lint();
    expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
  }, 300_000);

  it('fails on a promise left floating', () => {
    // tools/lint/probe is in the gate's TypeScript project, and ignored by git and by the project's own compiler.
    const dir = join(root, 'tools/lint/probe');
    mkdirSync(dir, { recursive: true });
    try {
      const file = join(dir, 'probe.ts');
      writeFileSync(file, 'export async function send(): Promise<void> {}\nexport function forget(): void {\n  send();\n}\n');
      const res = lint([file]);
      expect(res.status).toBe(1);
      expect(res.stdout).toContain('no-floating-promises');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
