import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every log the whole suite wrote (API, workers, Temporal, FerretDB, PostgreSQL; both profiles), read after the
// suite: an API key, a webhook signing secret or a credential in a webhook's custom headers (the suite's are
// `hdrcred_…`, test/integration/secret-headers.test.ts) in a log is a leak, and a log readable by others is one waiting.
const dir = process.env.HOOKRELAY_LOG_SCAN_DIR;

function files(d: string): string[] {
  return readdirSync(d).flatMap((e) => {
    const p = join(d, e);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe.runIf(!!dir)('the logs of the whole suite', () => {
  const logs = dir ? files(dir).filter((f) => f.endsWith('.log')) : [];

  it('exist: the API, the worker and the servers of both profiles wrote them', () => {
    const names = logs.map((f) => f.split('/').pop());
    for (const n of ['api.log', 'worker.log', 'temporal.log', 'ferretdb.log', 'temporal-server.log', 'postgresql.log']) expect(names).toContain(n);
  });

  it('hold no API key (hrk_…), no signing secret (whsec_…) and no custom header credential (hdrcred_…)', () => {
    const leaks: string[] = [];
    for (const f of logs) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/hrk_[A-Za-z0-9]{20,}|whsec_[A-Za-z0-9+/=]{16,}|hdrcred_[0-9a-f]{16,}/g)) leaks.push(`${f.slice(dir!.length + 1)}: ${m[0].slice(0, 10)}…`);
    }
    expect(leaks).toEqual([]);
  });

  it('are readable by their owner only (0600)', () => {
    const open = logs.filter((f) => (statSync(f).mode & 0o077) !== 0).map((f) => f.slice(dir!.length + 1));
    expect(open).toEqual([]);
  });
});
