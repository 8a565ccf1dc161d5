import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 25, item 7: every environment variable the code reads — src/config.ts's schema, and the few read
// elsewhere (tracing's OTEL_*, the CLI's HOOKRELAY_API_URL/KEY) — is in docs/deploy.md's configuration table,
// which README points to as the full one.
const root = join(import.meta.dirname, '..', '..');
const sources = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

function variablesRead(): Map<string, string> {
  const found = new Map<string, string>();
  const config = readFileSync(join(root, 'src/config.ts'), 'utf8');
  const schema = config.slice(config.indexOf('z.object({'), config.indexOf('});', config.indexOf('z.object({')));
  for (const [, name] of schema.matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)) found.set(name, 'src/config.ts');
  for (const file of ['src', 'activities', 'workflows'].flatMap(sources)) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const [, name] of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)|process\.env\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) found.set(name, file);
  }
  return found;
}

function tableOf(doc: string, heading: string): Set<string> {
  const text = readFileSync(join(root, doc), 'utf8');
  const start = text.indexOf(heading);
  const section = text.slice(start, text.indexOf('\n## ', start + heading.length));
  const names = new Set<string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const first = line.split('|')[1];
    for (const [, name] of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(name);
  }
  return names;
}

describe('the configuration table', () => {
  it('lists every environment variable the code reads', () => {
    const read = variablesRead();
    expect(read.size).toBeGreaterThan(40);
    const table = tableOf('docs/deploy.md', '## Configuration');
    const missing = [...read].filter(([name]) => !table.has(name)).map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });

  it('lists no variable the code does not read', () => {
    const read = variablesRead();
    // Read by scripts (npm start, start:cluster, the test stack) rather than by src/.
    const scripts = ['TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'FERRETDB_PORT', 'POSTGRES_PORT', 'HOOKRELAY_TOOLS_DIR', 'CHROMIUM_PATH', 'HOOKRELAY_MAX_HEAP_MB'];
    const extra = [...tableOf('docs/deploy.md', '## Configuration')].filter((name) => !read.has(name) && !scripts.includes(name));
    expect(extra).toEqual([]);
  });
});
