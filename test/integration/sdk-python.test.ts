import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newOrg, stack } from '../support/api.js';

// The Python SDK's own pytest suite (sdks/python/tests) against the real stack. The package is pip-installed
// (not imported from the source tree) into a virtualenv kept in the tools directory; the virtualenv holds the
// SDK's dependencies and pytest, and is rebuilt when that list changes.
const root = resolve(import.meta.dirname, '../..');
const pkgDir = join(root, 'sdks/python');
const venv = join(process.env.HOOKRELAY_TOOLS_DIR ?? join(root, '.tools'), 'python-sdk-venv');
const python = join(venv, 'bin/python');
// What the virtualenv must hold besides the SDK itself (pyproject.toml's dependencies, pytest, mypy, the build backend).
const requirements = ['httpx>=0.25,<1', 'typing_extensions>=4.7', 'pytest>=7', 'mypy>=1.8', 'setuptools>=61', 'wheel'];
let work: string;

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const res = spawnSync(cmd, args, { cwd: opts.cwd ?? root, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeout ?? 300_000 });
  if (res.error) throw res.error;
  return res;
}

beforeAll(() => {
  const stamp = join(venv, '.hookrelay-requirements');
  const wanted = requirements.join('\n');
  if (!existsSync(python) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== wanted) {
    rmSync(venv, { recursive: true, force: true });
    mkdirSync(venv, { recursive: true });
    const made = run(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv]);
    expect(made.status, `python3 -m venv: ${made.stderr}`).toBe(0);
    const pip = run(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...requirements]);
    expect(pip.status, `pip install: ${pip.stdout}${pip.stderr}`).toBe(0);
    writeFileSync(stamp, wanted);
  }
  // The SDK as a user installs it: built from sdks/python/pyproject.toml and installed into site-packages.
  work = mkdtempSync(join(tmpdir(), 'hookrelay-sdk-py-'));
  const install = run(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--no-deps', '--no-build-isolation', '--force-reinstall', '--no-cache-dir', pkgDir], {
    cwd: work,
  });
  expect(install.status, `pip install sdks/python: ${install.stdout}${install.stderr}`).toBe(0);
}, 600_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  // setuptools leaves its build directories in the source tree
  for (const d of ['build', 'src/hookrelay.egg-info']) rmSync(join(pkgDir, d), { recursive: true, force: true });
});

describe('the Python SDK (sdks/python)', () => {
  it('passes its pytest suite against the real stack: publish, webhooks, applications, portal, recover, verified deliveries', async () => {
    const { admin } = await newOrg('sdk-python');
    const started = Date.now();
    // Run from a scratch directory: `import hookrelay` finds the installed package, not sdks/python/src.
    const res = run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--rootdir', pkgDir, join(pkgDir, 'tests')], {
      cwd: work,
      env: { ...process.env, HOOKRELAY_API_URL: stack().apiUrl, HOOKRELAY_API_KEY: admin.key, PYTHONDONTWRITEBYTECODE: '1' },
    });
    const out = `${res.stdout}${res.stderr}`;
    expect(res.status, out).toBe(0);
    const passed = Number(/(\d+) passed/.exec(out)?.[1] ?? 0);
    expect(passed, out).toBeGreaterThanOrEqual(15);
    expect(out).not.toMatch(/\d+ (failed|error|skipped)/);
    console.log(`sdk-python: ${passed} pytest tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);

  it('is typed: mypy --strict passes on the package and on a user\'s file, and catches a wrong call', () => {
    const mypy = (...args: string[]) => run(python, ['-m', 'mypy', '--strict', '--cache-dir', join(venv, '.mypy_cache'), ...args], { cwd: work });
    const own = mypy(join(pkgDir, 'src/hookrelay'));
    expect(own.status, own.stdout + own.stderr).toBe(0);
    // The installed package (py.typed) as a user's code sees it.
    writeFileSync(
      join(work, 'check.py'),
      `from typing import List
from hookrelay import AsyncHookrelay, Hookrelay, HookrelayError, Page, verify_webhook
from hookrelay.types import Published, Webhook


def publish(h: Hookrelay) -> Published:
    return h.events.publish("invoice.paid", {"invoice": "A-1"}, application="acme", idempotency_key="k")


def active(h: Hookrelay) -> List[str]:
    page: Page[Webhook] = h.webhooks.list(status="active", per_page=10)
    return [w["url"] for w in page.data] + [w["id"] for w in h.webhooks.list_all(event="invoice.paid")]


async def deliveries(h: AsyncHookrelay, webhook_id: str) -> int:
    return len([d async for d in h.webhooks.list_all_deliveries(webhook_id, status="failed")])


def code(e: HookrelayError) -> str:
    return f"{e.code} {e.status} {e.request_id}"


payload = verify_webhook(b"{}", {"webhook-id": "x"}, ["whsec_a", "whsec_b"])
`,
    );
    const user = mypy('check.py');
    expect(user.status, user.stdout + user.stderr).toBe(0);
    writeFileSync(join(work, 'bad.py'), `from hookrelay import Hookrelay\nHookrelay().webhooks.list(status="paused")\nHookrelay().events.publish(type=1, data={})\n`);
    const bad = mypy('bad.py');
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/bad\.py:2: error: .*status/);
    expect(bad.stdout).toMatch(/bad\.py:3: error: .*type/);
  }, 300_000);

  it('runs the first publish of docs/sdk.md as written', async () => {
    const doc = readFileSync(join(root, 'docs/sdk.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### Python'));
    const snippet = /```python\n([\s\S]*?)```/.exec(section)?.[1];
    expect(snippet).toContain('events.publish(');
    const { admin } = await newOrg('sdk-python-doc');
    expect((await admin.post('/v1/event-types', { name: 'invoice.paid' })).status).toBe(201);
    expect((await admin.put('/v1/applications/uid/acme', { name: 'Acme Corp' })).status).toBe(201);
    writeFileSync(join(work, 'first_publish.py'), snippet!);
    const res = run(python, ['first_publish.py'], { cwd: work, env: { ...process.env, HOOKRELAY_API_URL: stack().apiUrl, HOOKRELAY_API_KEY: admin.key } });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^evt_\S+ 0\n$/);
  }, 60_000);
});
