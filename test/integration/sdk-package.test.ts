import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newOrg, stack } from '../support/api.js';

// The TypeScript SDK as a user gets it: `npm pack` of sdks/typescript, installed from the tarball into a
// throwaway project that has nothing of this repository, then used from plain Node (no tsx, no loader) against
// the real stack, and typechecked by tsc as a TypeScript user's code would be.
const root = resolve(import.meta.dirname, '../..');
const pkgDir = join(root, 'sdks/typescript');
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookrelay-sdk-pkg-'));
  // prepack compiles src/ to dist/ (ESM + .d.ts); the tarball is all a user gets.
  const out = execFileSync('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: pkgDir, encoding: 'utf8' });
  const [packed] = JSON.parse(out.slice(out.indexOf('[')));
  const tarball = join(dir, packed.filename);
  const files = (packed.files as { path: string }[]).map((f) => f.path).sort();
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json']) expect(files).toContain(f);
  expect(files.filter((f) => f.startsWith('src/') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'throwaway', private: true, type: 'module' }));
  // The SDK has no dependencies: the tarball installs without the registry.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app, stdio: 'pipe' });
  // Nothing of the test runner reaches the child: no NODE_OPTIONS (loaders), no tsx.
  env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_') && !k.startsWith('VITEST') && k !== 'TSX_TSCONFIG_PATH'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the TypeScript SDK package (sdks/typescript)', () => {
  it('depends on nothing at run time', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'app/node_modules/@hookrelay/sdk/package.json'), 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const sub of ['dist', 'dist/cjs']) {
      for (const f of readdirSync(join(dir, 'app/node_modules/@hookrelay/sdk', sub)).filter((f) => f.endsWith('.js'))) {
        const text = readFileSync(join(dir, 'app/node_modules/@hookrelay/sdk', sub, f), 'utf8');
        const imports = [...text.matchAll(/(?:import|export)[^;]*?from ['"]([^'"]+)['"]|require\(['"]([^'"]+)['"]\)/g)].map((m) => m[1] ?? m[2]);
        expect(imports.filter((s) => !s.startsWith('./') && !s.startsWith('node:')), `${sub}/${f}`).toEqual([]);
      }
    }
  });

  it('runs in plain Node against the real stack: publish, a delivery verified, list, a typed error', async () => {
    const { admin } = await newOrg('sdk-pkg');
    writeFileSync(
      join(dir, 'app/main.js'),
      `import { once } from 'node:events';
import { createServer } from 'node:http';
import { Hookrelay, HookrelayError, verifyWebhook } from '@hookrelay/sdk';
const hookrelay = new Hookrelay({ apiKey: process.env.HOOKRELAY_API_KEY, baseUrl: process.env.HOOKRELAY_API_URL });
// a receiver that verifies what the real worker sends
let webhook;
let onArrival;
const arrived = new Promise((resolve) => (onArrival = resolve));
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200).end();
    onArrival(verifyWebhook(Buffer.concat(chunks), req.headers, webhook.secret));
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
await hookrelay.eventTypes.create({ name: 'pkg.hello' });
webhook = await hookrelay.webhooks.create({ url: 'http://127.0.0.1:' + server.address().port + '/hook', events: ['pkg.hello'] });
const event = await hookrelay.events.publish({ type: 'pkg.hello', data: { n: 1 } });
const verified = await arrived;
server.closeAllConnections();
server.close();
const listed = await hookrelay.events.list({ type: 'pkg.hello' });
const err = await hookrelay.webhooks.get('wh_missing').catch((e) => e);
console.log(JSON.stringify({
  id: event.id,
  listed: listed.data.map((e) => e.id),
  error: err instanceof HookrelayError ? { code: err.code, status: err.status, requestId: err.requestId } : String(err),
  verified,
}));
`,
    );
    const run = spawnSync(process.execPath, ['main.js'], {
      cwd: join(dir, 'app'),
      env: { ...env, HOOKRELAY_API_URL: stack().apiUrl, HOOKRELAY_API_KEY: admin.key },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.id).toMatch(/^evt_/);
    expect(out.listed).toEqual([out.id]);
    expect(out.error).toMatchObject({ code: 'not_found', status: 404, requestId: expect.stringMatching(/^req_/) });
    expect(out.verified).toMatchObject({ id: out.id, type: 'pkg.hello', data: { n: 1 } });
  });

  it('loads with require() too (CommonJS build), and works against the stack', async () => {
    const { admin } = await newOrg('sdk-pkg-cjs');
    writeFileSync(
      join(dir, 'app/main.cjs'),
      `const { Hookrelay, HookrelayError, verifyWebhook } = require('@hookrelay/sdk');
const hookrelay = new Hookrelay({ apiKey: process.env.HOOKRELAY_API_KEY, baseUrl: process.env.HOOKRELAY_API_URL });
hookrelay.me().then(async (me) => {
  const err = await hookrelay.events.get('evt_missing').catch((e) => e);
  console.log(JSON.stringify({ role: me.key.role, typed: err instanceof HookrelayError && err.code, verify: typeof verifyWebhook }));
});
`,
    );
    const run = spawnSync(process.execPath, ['main.cjs'], {
      cwd: join(dir, 'app'),
      env: { ...env, HOOKRELAY_API_URL: stack().apiUrl, HOOKRELAY_API_KEY: admin.key },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ role: 'admin', typed: 'not_found', verify: 'function' });
  });

  it('typechecks a TypeScript user\'s file with tsc --noEmit (its .d.ts are real types, not any)', () => {
    const app = join(dir, 'app');
    writeFileSync(
      join(app, 'check.ts'),
      `import { Hookrelay, HookrelayError, verifyWebhook, type Page, type Webhook, type Published } from '@hookrelay/sdk';
const hookrelay = new Hookrelay({ apiKey: 'hrk_x', baseUrl: 'http://127.0.0.1:3000', maxRetries: 2 });
export const page: Promise<Page<Webhook>> = hookrelay.webhooks.list({ status: 'active', per_page: 10 });
export const published: Promise<Published> = hookrelay.events.publish({ type: 't', data: {} }, { idempotencyKey: 'k' });
export async function all(): Promise<string[]> {
  const ids: string[] = [];
  for await (const wh of hookrelay.webhooks.listAll()) ids.push(wh.id);
  return ids;
}
export const code = (e: unknown) => (e instanceof HookrelayError ? e.code + e.status + (e.requestId ?? '') : '');
export const payload: unknown = verifyWebhook('{}', { 'webhook-id': 'x' }, 'whsec_x');
// @ts-expect-error a status the API does not have
hookrelay.webhooks.list({ status: 'paused' });
// @ts-expect-error publish needs a type
hookrelay.events.publish({ data: {} });
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
          // @types/node of this repository (the throwaway project installs nothing else).
          types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
        },
        files: ['check.ts', 'first-publish.ts', 'check-cjs.cts'],
      }),
    );
    // and the first publish of docs/sdk.md as written
    const doc = readFileSync(join(root, 'docs/sdk.md'), 'utf8');
    const snippet = /```typescript\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf('### TypeScript')))?.[1];
    expect(snippet).toContain('events.publish(');
    writeFileSync(join(app, 'first-publish.ts'), snippet!);
    // a CommonJS TypeScript file gets the dist/cjs types through the "require" condition
    writeFileSync(join(app, 'check-cjs.cts'), `import { Hookrelay } from '@hookrelay/sdk';\nexport const org: Promise<string> = new Hookrelay({ apiKey: 'x' }).me().then((m) => m.organization.id);\n`);
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', app], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    // and a wrong use fails: the check above is not vacuous
    writeFileSync(join(app, 'check.ts'), `import { Hookrelay } from '@hookrelay/sdk';\nnew Hookrelay({ apiKey: 'x' }).events.publish({ type: 1, data: {} });\n`);
    const bad = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', app], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/check\.ts/);
  });
});
