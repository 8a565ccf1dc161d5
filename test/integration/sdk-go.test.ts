import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../support/run.js';
import { describe, expect, it } from 'vitest';
import { newOrg, stack } from '../support/api.js';

// The Go SDK's own suite (sdks/go, `go test`) against this stack: every operation of /openapi.json has a method,
// publish, webhooks, applications, portal sessions, recover with progress, and a delivery the worker signed,
// received by the test's HTTP server on loopback and verified. Its module and build caches live in the ignored
// .tools/sdk-go (scripts/tools.sh warms them), so nothing outside the repository is written.
const root = resolve(import.meta.dirname, '../..');
const cache = join(root, '.tools', 'sdk-go');

describe('Go SDK (sdks/go)', () => {
  it('passes go test against the running stack', async () => {
    const { admin } = await newOrg('sdk-go');
    mkdirSync(cache, { recursive: true });
    const env = {
      ...process.env,
      HOOKRELAY_API_URL: stack().apiUrl,
      HOOKRELAY_API_KEY: admin.key,
      GOFLAGS: '-mod=mod',
      GOPATH: join(cache, 'gopath'),
      GOCACHE: join(cache, 'build'),
    };
    const { code, output } = await run('go', ['test', '-count=1', '-v', './...'], join(root, 'sdks/go'), env, 240_000);
    expect(code, output).toBe(0);
    // Skipped would mean the stack's variables did not arrive: the suite must really have run against it.
    expect(output, output).not.toMatch(/--- SKIP/);
    expect(output).toMatch(/--- PASS: TestEveryOperationOfTheOpenAPIDocumentHasAMethod/);
    expect(output).toMatch(/--- PASS: TestPublishDeliverAndVerify/);
  }, 300_000);
});
