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
  it('org create (with its first key), key create, key revoke', async () => {
    const org = cli(['--json', 'org', 'create', 'cli-org']);
    expect(org.code, org.err).toBe(0);
    const orgId = JSON.parse(org.out).id;
    expect(orgId).toMatch(/^org_/);
    // The first key comes with the organization (README: "the first key of a new org"), and it works.
    const first = JSON.parse(org.out).key;
    expect(first).toMatchObject({ id: expect.stringMatching(/^key_/), role: 'admin', key: expect.stringMatching(/^hrk_/) });
    const me = await fetch(`${stack().apiUrl}/v1/me`, { headers: { authorization: `Bearer ${first.key}` } });
    expect(me.status).toBe(200);
    expect((await me.json()).organization.id).toBe(orgId);
    const text = cli(['org', 'create', 'cli-org-2']);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/^organization org_\S+ \(cli-org-2\)\nadmin key key_\S+: hrk_\S+\n/);
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
      // Statistics count attempts (docs/api.md, 'Statistics'): one failed, one succeeded; one delivery, delivered.
      const stats = cli(['webhooks', 'stats', wh.id, '--window', '1h'], k);
      expect(stats.code, stats.err).toBe(0);
      expect(stats.out).toContain('1h: attempts 1 succeeded, 1 failed (50.0 % of attempts)');
      expect(stats.out).toContain('deliveries: 1 delivered, 0 failed, 0 pending');
      expect(cli(['webhooks', 'stats', wh.id, '--window', 'forever'], k).err).toMatch(/^validation_failed: /);
    } finally {
      await flaky.close();
    }
  });

  /** Starts `hookrelay listen` and collects its stdout; stop() kills it by its pid. */
  async function listen(args: string[], extraEnv: Record<string, string> = {}) {
    const port = await freePort();
    const child = spawn(process.execPath, ['bin/hookrelay.js', '--json', 'listen', String(port), ...args], { env: { ...env(), ...extraEnv } });
    const lines: any[] = [];
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      for (let at = buf.indexOf('\n'); at >= 0; at = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, at)));
        buf = buf.slice(at + 1);
      }
    });
    await eventually(async () => lines.some((l) => l.listening), 30_000);
    return { port, url: `http://127.0.0.1:${port}`, lines, stop: () => child.kill('SIGTERM') };
  }
  const signed = (secret: string, body: string) => {
    const now = new Date();
    return { 'webhook-id': 'evt_cli', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('evt_cli', now, body) };
  };

  it('listen verifies and prints incoming webhooks', async () => {
    const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
    const l = await listen(['--secret', secret]);
    try {
      const body = JSON.stringify({ id: 'evt_cli', type: 'x', data: {} });
      const headers = signed(secret, body);
      expect((await fetch(`${l.url}/`, { method: 'POST', headers, body })).status).toBe(200);
      expect((await fetch(`${l.url}/`, { method: 'POST', headers, body: body + ' ' })).status).toBe(400);
      await eventually(async () => l.lines.some((x) => x.verified === false));
      expect(l.lines).toContainEqual(expect.objectContaining({ verified: true, path: '/' }));
    } finally {
      l.stop();
    }
  });

  it('listen without a secret prints every request, unverified, with its path (a receiver before any webhook exists)', async () => {
    const k = { HOOKRELAY_API_KEY: key };
    const l = await listen([]);
    try {
      // The README's order: the receiver first, then the webhooks, whose secrets it never learns.
      const a = JSON.parse(cli(['--json', 'webhooks', 'create', '--url', `${l.url}/acme`, '--events', 'cli.done'], k).out);
      const b = JSON.parse(cli(['--json', 'webhooks', 'create', '--url', `${l.url}/globex`, '--events', 'cli.done'], k).out);
      expect(cli(['events', 'publish', '--type', 'cli.done', '--data', '{"n":1}'], k).code).toBe(0);
      await eventually(async () => l.lines.filter((x) => x.path).length >= 2);
      const got = l.lines.filter((x) => x.path);
      expect(got.map((x) => x.path).sort()).toEqual(['/acme', '/globex']);
      for (const x of got) expect(x).toMatchObject({ verified: null, method: 'POST', id: expect.stringMatching(/^evt_/) });
      // Both deliveries succeeded: the listener answers 200, so nothing goes failing.
      for (const wh of [a, b]) await eventually(async () => / delivered /.test(cli(['deliveries', 'tail', '--webhook', wh.id, '--once'], k).out));
      expect((await fetch(`${l.url}/x`, { method: 'POST', body: 'hello' })).status).toBe(200);
      await eventually(async () => l.lines.some((x) => x.path === '/x' && x.body === 'hello'));
      for (const wh of [a, b]) expect(cli(['webhooks', 'delete', wh.id], k).code).toBe(0);
    } finally {
      l.stop();
    }
  });

  it('listen with several secrets verifies each webhook by its own (repeatable --secret)', async () => {
    const k = { HOOKRELAY_API_KEY: key };
    const s1 = 'whsec_' + Buffer.from('acme-acme-acme-acme-acme-acme-32').toString('base64');
    const s2 = 'whsec_' + Buffer.from('globex-globex-globex-globex-glob').toString('base64');
    const l = await listen(['--secret', s1, '--secret', s2]);
    try {
      const a = JSON.parse(cli(['--json', 'webhooks', 'create', '--url', `${l.url}/acme`, '--events', 'cli.done', '--secret', s1], k).out);
      const b = JSON.parse(cli(['--json', 'webhooks', 'create', '--url', `${l.url}/globex`, '--events', 'cli.done', '--secret', s2], k).out);
      expect(cli(['events', 'publish', '--type', 'cli.done'], k).code).toBe(0);
      await eventually(async () => l.lines.filter((x) => x.verified === true).length >= 2);
      expect(l.lines.filter((x) => x.verified === true).map((x) => [x.path, x.secret]).sort()).toEqual([['/acme', 1], ['/globex', 2]]);
      // A request neither secret signed is refused with 400, naming its path.
      const body = '{"id":"evt_cli"}';
      const other = 'whsec_' + Buffer.from('not-one-of-them-not-one-of-them!').toString('base64');
      expect((await fetch(`${l.url}/intruder`, { method: 'POST', headers: signed(other, body), body })).status).toBe(400);
      await eventually(async () => l.lines.some((x) => x.verified === false && x.path === '/intruder'));
      for (const wh of [a, b]) expect(cli(['webhooks', 'delete', wh.id], k).code).toBe(0);
    } finally {
      l.stop();
    }
  });

  it('listen --from-api verifies each webhook pointing at it with its own secret, also those created or rotated after it started', async () => {
    const k = { HOOKRELAY_API_KEY: key };
    const l = await listen(['--from-api'], k);
    try {
      // Created after the listener started: their secrets are generated, never given to it.
      const a = JSON.parse(cli(['--json', 'webhooks', 'create', '--url', `${l.url}/acme`, '--events', 'cli.done'], k).out);
      const b = JSON.parse(cli(['--json', 'webhooks', 'create', '--url', `${l.url}/globex`, '--events', 'cli.done'], k).out);
      expect(cli(['events', 'publish', '--type', 'cli.done'], k).code).toBe(0);
      await eventually(async () => l.lines.filter((x) => x.verified === true).length >= 2);
      expect(l.lines.filter((x) => x.verified === true).map((x) => [x.path, x.webhook]).sort()).toEqual([['/acme', a.id], ['/globex', b.id]]);
      expect(l.lines.filter((x) => x.verified === false)).toEqual([]);
      for (const wh of [a, b]) await eventually(async () => / delivered /.test(cli(['deliveries', 'tail', '--webhook', wh.id, '--once'], k).out));
      // A forged request is refused; a request signed with A's secret is accepted.
      const body = '{"id":"evt_cli"}';
      const forged = 'whsec_' + Buffer.from('not-one-of-them-not-one-of-them!').toString('base64');
      expect((await fetch(`${l.url}/acme`, { method: 'POST', headers: signed(forged, body), body })).status).toBe(400);
      expect((await fetch(`${l.url}/acme`, { method: 'POST', headers: signed(a.secret, body), body })).status).toBe(200);
      // Rotated after the listener read it: the new secret alone is accepted once the listener reads again.
      const rotated = await fetch(`${stack().apiUrl}/v1/webhooks/${a.id}/rotate-secret`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
      const { secret: next } = await rotated.json();
      expect(next).not.toBe(a.secret);
      expect((await fetch(`${l.url}/acme`, { method: 'POST', headers: signed(next, body), body })).status).toBe(200);
      for (const wh of [a, b]) expect(cli(['webhooks', 'delete', wh.id], k).code).toBe(0);
    } finally {
      l.stop();
    }
    // Without a key it says so and does not listen.
    const noKey = spawnSync(process.execPath, ['bin/hookrelay.js', 'listen', String(await freePort()), '--from-api'], { env: { ...env(), HOOKRELAY_API_KEY: 'hrk_wrong' }, encoding: 'utf8', timeout: 60_000 });
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toMatch(/^unauthenticated: /);
  });

  it('event-types: create, list, get, update, archive from the CLI; publish works right after create', async () => {
    const k = { HOOKRELAY_API_KEY: key };
    const schema = JSON.stringify({ type: 'object', required: ['invoice'], properties: { invoice: { type: 'string' } } });
    const created = cli(['--json', 'event-types', 'create', 'cli.invoice.paid', '--description', 'An invoice was paid', '--schema', schema], k);
    expect(created.code, created.err).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({ name: 'cli.invoice.paid', description: 'An invoice was paid', schema: { required: ['invoice'] } });
    expect(cli(['event-types', 'create', 'cli.invoice.paid'], k).err).toMatch(/^conflict: /);
    const listed = cli(['event-types', 'list'], k);
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out.split('\n')[0]).toMatch(/^NAME\s+STATE\s+SCHEMA\s+DESCRIPTION/);
    expect(listed.out).toMatch(/cli\.invoice\.paid\s+live\s+yes\s+An invoice was paid/);
    expect(cli(['event-types', 'get', 'cli.invoice.paid'], k).out).toContain('"required"');
    // A first publish needs no curl: the type now exists, and its schema applies.
    const wh = JSON.parse(cli(['--json', 'webhooks', 'create', '--url', rcv.url, '--events', 'cli.invoice.paid'], k).out);
    expect(cli(['events', 'publish', '--type', 'cli.invoice.paid', '--data', '{"invoice":"A-1"}'], k).out).toContain('1 deliveries');
    expect(cli(['events', 'publish', '--type', 'cli.invoice.paid', '--data', '{}'], k).err).toMatch(/^validation_failed: /);
    expect(cli(['event-types', 'create', 'cli.invoice.settled'], k).code).toBe(0);
    const updated = cli(['--json', 'event-types', 'update', 'cli.invoice.paid', '--deprecated', '--replaced-by', 'cli.invoice.settled', '--description', 'Old name'], k);
    expect(updated.code, updated.err).toBe(0);
    expect(JSON.parse(updated.out)).toMatchObject({ deprecated: true, replaced_by: 'cli.invoice.settled', description: 'Old name' });
    expect(cli(['event-types', 'list'], k).out).toMatch(/cli\.invoice\.paid\s+deprecated → cli\.invoice\.settled/);
    expect(JSON.parse(cli(['--json', 'event-types', 'update', 'cli.invoice.paid', '--no-deprecated', '--schema', 'null'], k).out)).toMatchObject({ deprecated: false, schema: null });
    expect(cli(['event-types', 'update', 'cli.invoice.paid'], k).err).toContain('nothing to change');
    const badSchema = cli(['event-types', 'create', 'cli.bad', '--schema', '{nope'], k);
    expect(badSchema.code).toBe(1);
    expect(badSchema.err).toContain('--schema must be JSON');
    expect(cli(['event-types', 'create', 'not a name'], k).err).toMatch(/^validation_failed: /);
    expect(cli(['webhooks', 'delete', wh.id], k).code).toBe(0);
    expect(cli(['event-types', 'archive', 'cli.invoice.paid'], k).code).toBe(0);
    expect(cli(['events', 'publish', '--type', 'cli.invoice.paid'], k).err).toMatch(/^unknown_event_type: /);
    expect(cli(['event-types', 'list'], k).out).not.toContain('cli.invoice.paid');
    expect(cli(['event-types', 'list', '--include-archived'], k).out).toMatch(/cli\.invoice\.paid\s+archived/);
    expect(cli(['event-types', 'get', 'nope.nope'], k).err).toMatch(/^not_found: /);
  });

  it('webhooks create takes --secret, --filter, --timeout, --channels, --description, --rate-limit; get --show-secret', async () => {
    const k = { HOOKRELAY_API_KEY: key };
    const own = await startReceiver();
    try {
      const secret = 'whsec_' + Buffer.from('cli-secret-cli-secret-cli-secret').toString('base64');
      expect(cli(['event-types', 'create', 'cli.filtered'], k).code).toBe(0); // a type no other webhook of the org takes
      const created = cli(['--json', 'webhooks', 'create', '--url', own.url, '--events', 'cli.filtered', '--secret', secret,
        '--filter', '{"data.amount":{"$gte":100}}', '--timeout', '5s', '--description', 'billing', '--rate-limit', '20',
        '--header', 'X-Tenant: 42', '--retry-schedule', '1s,2s'], k);
      expect(created.code, created.err).toBe(0);
      const wh = JSON.parse(created.out);
      expect(wh).toMatchObject({ secret, filter: { 'data.amount': { $gte: 100 } }, timeout_ms: 5000, description: 'billing', rate_limit_per_s: 20, headers: { 'X-Tenant': '42' }, retry_schedule: ['1s', '2s'] });
      const shown = cli(['webhooks', 'get', wh.id, '--show-secret'], k);
      expect(shown.code, shown.err).toBe(0);
      expect(shown.out).toContain(`secret: ${secret}`);
      expect(shown.out).toContain('timeout: 5000 ms');
      expect(cli(['webhooks', 'get', wh.id], k).out).not.toContain('secret:');
      // The filter decides; the given secret signs.
      expect(cli(['events', 'publish', '--type', 'cli.filtered', '--data', '{"amount":5}'], k).out).toContain('0 deliveries');
      expect(cli(['events', 'publish', '--type', 'cli.filtered', '--data', '{"amount":500}'], k).out).toContain('1 deliveries');
      await own.waitFor(1);
      expect(new Webhook(secret).verify(own.received[0].body, own.received[0].headers as Record<string, string>)).toMatchObject({ data: { amount: 500 } });
      expect(own.received[0].headers['x-tenant']).toBe('42');
      const channels = JSON.parse(cli(['--json', 'webhooks', 'create', '--url', own.url, '--channels', 'eu, us', '--timeout', '2500'], k).out);
      expect(channels).toMatchObject({ channels: ['eu', 'us'], timeout_ms: 2500 });
      // Bad input stops with a clear message: locally when it is not even the right kind, else the API's 400.
      const badFilter = cli(['webhooks', 'create', '--url', own.url, '--filter', '{'], k);
      expect(badFilter.code).toBe(1);
      expect(badFilter.err).toContain('--filter must be JSON');
      expect(cli(['webhooks', 'create', '--url', own.url, '--timeout', 'soon'], k).err).toContain('--timeout');
      expect(cli(['webhooks', 'create', '--url', own.url, '--timeout', '100ms'], k).err).toMatch(/^validation_failed: [\s\S]*timeout_ms/);
      expect(cli(['webhooks', 'create', '--url', own.url, '--secret', 'short'], k).err).toMatch(/^validation_failed: [\s\S]*secret/);
      expect(cli(['webhooks', 'create', '--url', own.url, '--rate-limit', 'fast'], k).err).toContain('--rate-limit');
      expect(cli(['webhooks', 'create', '--url', own.url, '--header', 'NoColon'], k).err).toContain('--header');
      for (const id of [wh.id, channels.id]) expect(cli(['webhooks', 'delete', id], k).code).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('every command and subcommand says what it does in --help', () => {
    /** The "Commands:" section of a help text: [name, description] per line. */
    const commands = (help: string) => {
      const section = help.split(/\nCommands:\n/)[1] ?? '';
      return section.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => {
        const m = /^ {2}(\S+)(?:.*?)(?: {2,}(.*))?$/.exec(l)!;
        return [m[1], (m[2] ?? '').trim()] as const;
      });
    };
    const top = commands(cli(['--help']).out).filter(([n]) => n !== 'help');
    expect(top.map(([n]) => n)).toEqual(expect.arrayContaining(['webhooks', 'event-types', 'apps', 'events', 'deliveries', 'listen', 'org', 'key']));
    const missing: string[] = [];
    for (const [name, description] of top) {
      if (!description) missing.push(name);
      for (const [sub, subDescription] of commands(cli([name, '--help']).out)) {
        if (sub !== 'help' && !subDescription) missing.push(`${name} ${sub}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
