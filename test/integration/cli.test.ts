import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { eventually, stack } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
// @ts-expect-error plain JS module shared with npm start
import { freePort } from '../../scripts/stack.js';

// The hookrelay CLI as an operator runs it: `node bin/hookrelay.js …` against the real stack.
const env = () => ({ ...process.env, HOOKRELAY_API_URL: stack().apiUrl, MONGODB_URL: stack().mongoUrl, MONGODB_DB: stack().mongoDb });
function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, ['bin/hookrelay.js', ...args], { env: { ...env(), ...extraEnv }, encoding: 'utf8', timeout: 60_000 });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

let rcv: Receiver;
let key: string;
beforeAll(async () => {
  rcv = await startReceiver();
});
afterAll(() => rcv.close());

describe('hookrelay CLI', () => {
  it('org create, key create, key revoke', () => {
    const org = cli(['--json', 'org', 'create', 'cli-org']);
    expect(org.code, org.err).toBe(0);
    const orgId = JSON.parse(org.out).id;
    expect(orgId).toMatch(/^org_/);
    const created = cli(['--json', 'key', 'create', '--org', orgId, '--role', 'admin']);
    expect(created.code, created.err).toBe(0);
    key = JSON.parse(created.out).key;
    expect(key).toMatch(/^hrk_/);
    const pub = JSON.parse(cli(['--json', 'key', 'create', '--org', orgId, '--role', 'publisher']).out);
    const revoked = cli(['key', 'revoke', pub.id]);
    expect(revoked.code).toBe(0);
    expect(cli(['key', 'revoke', pub.id]).code).toBe(1);
    expect(cli(['key', 'create', '--org', 'org_nope']).code).toBe(1);
  });

  it('webhooks, events, deliveries tail and recover', async () => {
    const k = { HOOKRELAY_API_KEY: key };
    // The catalog needs the type; the CLI uses the API for it through the SDK-backed commands.
    await fetch(`${stack().apiUrl}/v1/event-types`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"name":"cli.done"}' });
    const created = cli(['--json', 'webhooks', 'create', '--url', rcv.url, '--events', 'cli.done', '--header', 'Authorization: Bearer t', '--retry-schedule', ''], k);
    expect(created.code, created.err).toBe(0);
    const wh = JSON.parse(created.out);
    expect(wh).toMatchObject({ retry_schedule: [], headers: { Authorization: 'Bearer t' } });
    expect(cli(['webhooks', 'list'], k).out).toContain(wh.id);
    const pub = cli(['events', 'publish', '--type', 'cli.done', '--data', '{"ok":true}'], k);
    expect(pub.code, pub.err).toBe(0);
    expect(pub.out).toContain('1 deliveries');
    await rcv.waitFor(1);
    await eventually(async () => cli(['deliveries', 'tail', '--webhook', wh.id, '--once'], k).out.includes('delivered'));
    expect(cli(['webhooks', 'disable', wh.id], k).out).toContain('disabled');
    expect(cli(['--json', 'webhooks', 'enable', wh.id], k).code).toBe(0);
    const rec = cli(['--json', 'recover', '--webhook', wh.id, '--since', new Date(Date.now() - 60_000).toISOString()], k);
    expect(rec.code, rec.err).toBe(0);
    expect(JSON.parse(rec.out)).toMatchObject({ status: 'completed', recovered: 0 });
    const bad = cli(['events', 'publish', '--type', 'nope'], k);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^unknown_event_type: .*\(req_/);
    expect(cli(['webhooks', 'delete', wh.id], k).code).toBe(0);
  });

  it('webhooks create --max-in-flight: stored, printed, listed; a bad value is refused', () => {
    const k = { HOOKRELAY_API_KEY: key };
    const created = cli(['--json', 'webhooks', 'create', '--url', rcv.url, '--events', 'cli.done', '--max-in-flight', '5'], k);
    expect(created.code, created.err).toBe(0);
    const wh = JSON.parse(created.out);
    expect(wh.max_in_flight).toBe(5);
    const plain = cli(['webhooks', 'create', '--url', rcv.url, '--events', 'cli.done'], k);
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).toContain('max in flight: deployment default');
    const listed = cli(['webhooks', 'list'], k);
    expect(listed.out.split('\n')[0]).toContain('MAX_IN_FLIGHT');
    expect(listed.out.split('\n').find((l) => l.startsWith(wh.id))).toMatch(/\s5$/);
    const outOfRange = cli(['webhooks', 'create', '--url', rcv.url, '--max-in-flight', '1001'], k);
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.err).toMatch(/^validation_failed: [\s\S]*max_in_flight/);
    const notANumber = cli(['webhooks', 'create', '--url', rcv.url, '--max-in-flight', 'x'], k);
    expect(notANumber.code).toBe(1);
    expect(notANumber.err).toContain('--max-in-flight');
    const plainId = plain.out.split(' ')[0];
    for (const id of [wh.id, plainId]) expect(cli(['webhooks', 'delete', id], k).code).toBe(0);
  });

  it('recover re-delivers what failed, with a progress bar', async () => {
    const k = { HOOKRELAY_API_KEY: key };
    let up = false;
    const flaky = await startReceiver(() => ({ status: up ? 200 : 500 }));
    try {
      const since = new Date(Date.now() - 1000).toISOString();
      const wh = JSON.parse(cli(['--json', 'webhooks', 'create', '--url', flaky.url, '--events', 'cli.done', '--retry-schedule', ''], k).out);
      expect(cli(['events', 'publish', '--type', 'cli.done'], k).code).toBe(0);
      await eventually(async () => / failed /.test(cli(['deliveries', 'tail', '--webhook', wh.id, '--once'], k).out));
      up = true;
      const rec = cli(['recover', '--webhook', wh.id, '--since', since], k);
      expect(rec.code, rec.err).toBe(0);
      expect(rec.out).toMatch(/rcv_\S+ \[#{30}\] 1\/1 completed: 1 re-delivered/);
      await flaky.waitFor(2);
      await eventually(async () => / delivered .*attempt 2 /.test(cli(['deliveries', 'tail', '--webhook', wh.id, '--once'], k).out));
    } finally {
      await flaky.close();
    }
  });

  it('listen verifies and prints incoming webhooks', async () => {
    const port = await freePort();
    const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
    const child = spawn(process.execPath, ['bin/hookrelay.js', '--json', 'listen', String(port), '--secret', secret], { env: env() });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    try {
      await eventually(async () => out.includes('listening'), 30_000);
      const body = JSON.stringify({ id: 'evt_cli', type: 'x', data: {} });
      const now = new Date();
      const headers = { 'webhook-id': 'evt_cli', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('evt_cli', now, body) };
      expect((await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body })).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body: body + ' ' })).status).toBe(400);
      await eventually(async () => out.includes('"verified":false'));
      expect(out).toContain('"verified":true');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
