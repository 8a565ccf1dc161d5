import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with npm start
import { makePrivate } from '../../scripts/stack.js';
import { newOrg, stack } from '../support/api.js';

// Issue 24, item 6: another local user read a customer's endpoint credential out of FerretDB's SQLite file.
const mode = (p: string) => statSync(p).mode & 0o777;
function walk(dir: string): { path: string; dir: boolean }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? [{ path, dir: true }, ...walk(path)] : e.isFile() ? [{ path, dir: false }] : [];
  });
}

describe("data at rest is its owner's only (item 6)", () => {
  it('the stack\'s data directory and its directories are 0700; every database, WAL and log file 0600', async () => {
    // Something stored, so every database and its WAL exist.
    const { admin } = await newOrg('at-rest');
    expect((await admin.post('/v1/webhooks', { url: 'http://127.0.0.1:9/x', headers: { Authorization: 'Bearer private' } })).status).toBe(201);
    const { dataDir, logDir } = stack();
    expect(mode(dataDir).toString(8)).toBe('700');
    const entries = [...walk(dataDir), ...(logDir.startsWith(dataDir) ? [] : [{ path: logDir, dir: true }, ...walk(logDir)])];
    const names = entries.map((e) => relative(dataDir, e.path));
    // What the check covers: Temporal's and FerretDB's databases with their WAL files, and the logs.
    expect(names).toEqual(expect.arrayContaining(['temporal.db', 'temporal.db-wal', 'ferretdb']));
    expect(names.some((n) => /^ferretdb\/.+\.sqlite-wal$/.test(n)), names.join(' ')).toBe(true);
    expect(entries.some((e) => e.path.endsWith('.log'))).toBe(true);
    const open = entries.filter((e) => mode(e.path) !== (e.dir ? 0o700 : 0o600)).map((e) => `${mode(e.path).toString(8)} ${e.path}`);
    expect(open).toEqual([]);
  });

  it("npm start makes an older, readable data directory private before anything starts (makePrivate)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookrelay-at-rest-'));
    try {
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, 'ferretdb'), { mode: 0o755 });
      mkdirSync(join(dir, 'cluster'), { mode: 0o711 });
      for (const f of ['temporal.db', 'temporal.db-wal', 'ferretdb/hookrelay.sqlite', 'cluster/keep']) writeFileSync(join(dir, f), 'x', { mode: 0o644 });
      makePrivate(dir, { skip: ['cluster'] });
      expect([dir, join(dir, 'ferretdb')].map(mode)).toEqual([0o700, 0o700]);
      expect(['temporal.db', 'temporal.db-wal', 'ferretdb/hookrelay.sqlite'].map((f) => mode(join(dir, f)))).toEqual([0o600, 0o600, 0o600]);
      // start:cluster's directory is its own (scripts/cluster.js lets PostgreSQL's user through it).
      expect([mode(join(dir, 'cluster')), mode(join(dir, 'cluster/keep'))]).toEqual([0o711, 0o644]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
