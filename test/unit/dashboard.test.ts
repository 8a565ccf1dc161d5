import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/grafana-dashboard.json must chart metrics that exist: every hookrelay_* name in its queries is defined in
// the code (a renamed metric would leave an empty panel).
describe('docs/grafana-dashboard.json', () => {
  it('queries only metrics the API and the worker define', () => {
    const root = join(import.meta.dirname, '../..');
    const dash = JSON.parse(readFileSync(join(root, 'docs/grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const names = new Set(dash.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/hookrelay_[a-z_]+/g) ?? [])).map((n) => n.replace(/_(bucket|count|sum)$/, '')));
    const code = ['src/api/ops.ts', 'activities/metrics.ts', 'src/roles/worker.ts'].map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
    expect(names.size).toBeGreaterThan(8);
    for (const n of names) expect(code, n).toContain(`'${n}'`);
  });
});
