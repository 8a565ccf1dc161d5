import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
// The TypeScript 5 compiler API (typescript@7 is the native compiler and has no JavaScript API yet).
import ts from 'typescript-compiler-api';
import { describe, expect, it } from 'vitest';

// Layers run one way (docs/architecture.md): api → services → storage / Temporal adapter → domain. This reads
// every import of src/, activities/ and workflows/ with the TypeScript compiler (type-only imports included:
// they still couple the layers) and fails on a wrong-way import or on any import cycle.
const root = resolve(import.meta.dirname, '../..');

type Layer = 'domain' | 'errors' | 'config' | 'log' | 'storage' | 'temporal' | 'services' | 'api' | 'activities' | 'workflows' | 'workflow-shapes' | 'entry' | 'sdk' | 'cli';

export function layerOf(file: string): Layer {
  const f = relative(root, file).replaceAll('\\', '/');
  if (f === 'workflows/types.ts') return 'workflow-shapes';
  if (f.startsWith('workflows/')) return 'workflows';
  if (f.startsWith('activities/')) return 'activities';
  if (f.startsWith('src/domain/')) return 'domain';
  if (f.startsWith('src/storage/')) return 'storage';
  if (f.startsWith('src/services/')) return 'services';
  if (f.startsWith('src/api/')) return 'api';
  if (f.startsWith('sdks/typescript/src/')) return 'sdk'; // the SDK package: imports nothing of the server
  if (f.startsWith('src/cli/')) return 'cli';
  if (f === 'src/temporal.ts' || f.startsWith('src/temporal/')) return 'temporal';
  if (f === 'src/errors.ts') return 'errors';
  if (f === 'src/config.ts') return 'config';
  if (f === 'src/log.ts' || f === 'src/tracing.ts') return 'log'; // observability: logs and traces
  return 'entry'; // src/main.ts, src/worker.ts, …: composition roots wire everything together
}

// What each layer may import besides itself. Composition roots (entry, cli) may import anything.
const ALLOWED: Record<Layer, Layer[]> = {
  domain: [],
  errors: [],
  config: ['domain'],
  log: ['config'],
  'workflow-shapes': ['domain'],
  storage: ['domain', 'errors', 'config', 'log'],
  temporal: ['domain', 'errors', 'config', 'log', 'workflow-shapes'],
  services: ['storage', 'temporal', 'domain', 'errors', 'config', 'log', 'workflow-shapes'],
  api: ['services', 'domain', 'errors', 'config', 'log'],
  activities: ['services', 'storage', 'temporal', 'domain', 'errors', 'config', 'log', 'workflow-shapes'],
  // Workflow code is deterministic: only other workflow files, pure domain modules and the shapes.
  workflows: ['domain', 'workflow-shapes'],
  sdk: [],
  cli: ['entry', 'services', 'storage', 'temporal', 'domain', 'errors', 'config', 'log', 'sdk', 'api', 'workflow-shapes'],
  entry: ['api', 'services', 'storage', 'temporal', 'activities', 'workflows', 'domain', 'errors', 'config', 'log', 'workflow-shapes', 'cli', 'sdk'],
};
// Exceptions, each with its reason.
const EXCEPTIONS: { from: string; to: string; why: string }[] = [
  // The worker's workflows import activity *types* (import type) so that proxyLocalActivities is typed.
  { from: 'workflows/', to: 'activities/index.ts', why: 'type-only: the activity signatures for proxyActivities' },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.ts$/.test(e) && !e.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative imports of a file, resolved to .ts files (`./x.js` → `./x.ts`). */
function importsOf(file: string): { spec: string; target: string; typeOnly: boolean }[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { spec: string; target: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node) => {
    let spec: string | null = null;
    let typeOnly = false;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      spec = node.moduleSpecifier.text;
      typeOnly = ts.isImportDeclaration(node) ? !!node.importClause?.isTypeOnly : node.isTypeOnly;
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0])) {
      spec = (node.arguments[0] as ts.StringLiteral).text;
    }
    if (spec?.startsWith('.')) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      out.push({ spec, target, typeOnly });
    } else if (spec) {
      out.push({ spec, target: `external:${spec}`, typeOnly });
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return out;
}

const files = ['src', 'activities', 'workflows', 'sdks/typescript/src'].flatMap((d) => sourceFiles(join(root, d)));
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => relative(root, f).replaceAll('\\', '/');

export function wrongWay(): string[] {
  const bad: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    for (const { target } of imports) {
      if (target.startsWith('external:')) continue;
      const to = layerOf(target);
      if (to === from || ALLOWED[from].includes(to)) continue;
      if (EXCEPTIONS.some((e) => rel(file).startsWith(e.from) && rel(target) === e.to)) continue;
      bad.push(`${rel(file)} (${from}) → ${rel(target)} (${to})`);
    }
  }
  return bad;
}

export function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'visiting');
    stack.push(f);
    for (const { target } of graph.get(f) ?? []) {
      if (!graph.has(target)) continue;
      if (state.get(target) === 'visiting') found.push([...stack.slice(stack.indexOf(target)), target].map(rel));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe('import direction (api → services → storage / temporal → domain)', () => {
  it('reads every relative import of the tree', () => {
    expect(files.length).toBeGreaterThan(40);
    expect([...graph.values()].flat().filter((i) => !i.target.startsWith('external:')).length).toBeGreaterThan(100);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
    // every relative import resolves to a file of the tree (a typo would silently escape the check)
    const unresolved = [...graph].flatMap(([f, imps]) => imps.filter((i) => !i.target.startsWith('external:') && !graph.has(i.target) && !i.target.endsWith('.json')).map((i) => `${rel(f)}: ${i.spec}`));
    expect(unresolved).toEqual([]);
  });

  it('has no import that runs against the layers', () => {
    expect(wrongWay()).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('workflow code reaches, through every import it makes at run time, nothing but @temporalio/workflow and @temporalio/common', () => {
    // Deterministic code may not touch Node, MongoDB, Koa, the network or the worker. Type-only imports vanish
    // at run time; every other import is followed to the end.
    const reached = new Set<string>();
    const externals = new Set<string>();
    const visit = (f: string) => {
      if (reached.has(f)) return;
      reached.add(f);
      for (const i of graph.get(f) ?? []) {
        if (i.typeOnly) continue;
        if (i.target.startsWith('external:')) externals.add(i.spec);
        else visit(i.target);
      }
    };
    for (const f of files) if (layerOf(f) === 'workflows') visit(f);
    expect([...reached].map(rel).filter((f) => !f.startsWith('workflows/') && !f.startsWith('src/domain/'))).toEqual([]);
    expect([...externals].filter((e) => !['@temporalio/workflow', '@temporalio/common'].includes(e))).toEqual([]);
  });
});
