import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/domain/signature.js';
import { eventually, newOrg, stack } from '../support/api.js';
// @ts-expect-error plain JS module shared with npm start
import { freePort } from '../../scripts/stack.js';

// The documented examples, run as written: examples/verify.ts receives and verifies what examples/publish.ts sends.
describe('SDK examples (docs/sdk.md)', () => {
  it('docs/sdk.md shows every example file as it is', () => {
    const blocks = [...readFileSync('docs/sdk.md', 'utf8').matchAll(/```(?:ts|python)\n([\s\S]*?)```/g)].map((m) => m[1]);
    for (const file of ['examples/publish.ts', 'examples/verify.ts']) expect(blocks, file).toContain(readFileSync(file, 'utf8'));
  });

  it('publish.ts delivers to verify.ts, which verifies the signature', async () => {
    const { admin } = await newOrg('examples');
    const port = await freePort();
    const secret = generateSecret();
    let verifyOut = '';
    const verify = spawn(process.execPath, ['--import', 'tsx', 'examples/verify.ts'], { env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port) } });
    verify.stdout.on('data', (c) => (verifyOut += c));
    try {
      await eventually(async () => verifyOut.includes('listening'), 30_000);
      const run = () =>
        spawnSync(process.execPath, ['--import', 'tsx', 'examples/publish.ts'], {
          env: { ...process.env, HOOKRELAY_API_URL: stack().apiUrl, HOOKRELAY_API_KEY: admin.key, RECEIVER_URL: `http://127.0.0.1:${port}/hook`, WEBHOOK_SECRET: secret },
          encoding: 'utf8',
          timeout: 60_000,
        });
      const first = run();
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/delivered dlv_\S+ attempt 1 status 200/);
      await eventually(async () => verifyOut.includes('verified case.complete'));
      // Running it again registers the same customer again (replace, same webhook) and publishes once more.
      const second = run();
      expect(second.status, second.stderr).toBe(0);
      const webhookId = (out: string) => /webhook (wh_\S+)/.exec(out)?.[1];
      expect(webhookId(second.stdout)).toBe(webhookId(first.stdout));
      await eventually(async () => verifyOut.split('verified case.complete').length === 3);
      expect(verifyOut).not.toContain('rejected');
    } finally {
      verify.kill('SIGTERM');
    }
  }, 120_000);
});
