import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../support/run.js';
import { describe, expect, it } from 'vitest';
import { newOrg, stack } from '../support/api.js';

// The Java SDK's own suite (sdks/java, Maven Surefire + JUnit 5) against this stack: every operation of
// /openapi.json has a method, publish, webhooks, applications, portal sessions, recover with progress, and a
// delivery the worker signed, received by the test's HTTP server on loopback and verified. Maven runs offline on
// the repository scripts/tools.sh filled (.tools/sdk-java/m2); nothing is fetched inside this test.
const root = resolve(import.meta.dirname, '../..');
const project = join(root, 'sdks/java');
const repo = join(root, '.tools', 'sdk-java', 'm2');

describe('Java SDK (sdks/java)', () => {
  it('passes mvn test against the running stack', async () => {
    expect(existsSync(repo), `${repo} is missing: run npm run tools (scripts/tools.sh fetches the SDK's dependencies)`).toBe(true);
    const { admin } = await newOrg('sdk-java');
    const env = { ...process.env, HOOKRELAY_API_URL: stack().apiUrl, HOOKRELAY_API_KEY: admin.key };
    const reports = join(project, 'target/surefire-reports');
    rmSync(reports, { recursive: true, force: true }); // only this run's reports count below
    const { code, output } = await run('mvn', ['-o', '-q', '-B', `-Dmaven.repo.local=${repo}`, 'test'], project, env, 300_000);
    expect(code, output).toBe(0);
    // Skipped tests would mean the stack's variables did not arrive: the suite must really have run against it.
    let tests = 0;
    for (const f of readdirSync(reports).filter((n) => n.endsWith('.xml'))) {
      const suite = /<testsuite [^>]*>/.exec(readFileSync(join(reports, f), 'utf8'))?.[0] ?? '';
      const count = (name: string) => Number(new RegExp(`${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
      expect(count('skipped'), `${f}: ${suite}`).toBe(0);
      tests += count('tests');
    }
    expect(tests).toBeGreaterThanOrEqual(12);
  }, 360_000);
});
