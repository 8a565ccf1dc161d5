import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Command } from 'commander';
import { Hookrelay, HookrelayError, verifyWebhook, type Delivery } from '../../sdks/typescript/src/index.js';
import { adminCommands } from './admin.js';
import { fail, print, reportError, table } from './output.js';

// `hookrelay`: administration, webhooks, events, the live delivery log, recoveries, and a local receiver.
const program = new Command('hookrelay')
  .description('hookrelay — durable webhook delivery')
  .option('--api-url <url>', 'API base URL (env HOOKRELAY_API_URL)', process.env.HOOKRELAY_API_URL ?? 'http://127.0.0.1:3000')
  .option('--api-key <key>', 'API key (env HOOKRELAY_API_KEY; else .data/admin-key of a local npm start)')
  .option('--json', 'print JSON');

function client(): Hookrelay {
  const opts = program.opts<{ apiUrl: string; apiKey?: string }>();
  const apiKey = opts.apiKey ?? process.env.HOOKRELAY_API_KEY ?? (existsSync('.data/admin-key') ? readFileSync('.data/admin-key', 'utf8').trim() : undefined);
  if (!apiKey) fail('no API key: pass --api-key or set HOOKRELAY_API_KEY');
  return new Hookrelay({ apiKey, baseUrl: opts.apiUrl });
}

adminCommands(program);

const webhooks = program.command('webhooks').description('manage webhooks');
webhooks.command('list').option('--status <status>', 'active or disabled').action(async (o: { status?: 'active' | 'disabled' }) => {
  const rows = [];
  for await (const wh of client().webhooks.listAll({ status: o.status })) rows.push(wh);
  print(program, rows, table(rows, ['id', 'url', 'events', 'status', 'health_status', 'max_in_flight']));
});

/** `--max-in-flight <n>`: a number for the API to check (1–1000); anything else stops here. */
function maxInFlight(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*-?\d+(\.\d+)?\s*$/.test(value)) fail(`--max-in-flight: "${value}" is not a number (an integer from 1 to 1000)`);
  return Number(value);
}
const inFlightText = (n: number | null) => (n === null ? 'deployment default' : String(n));
webhooks
  .command('create')
  .requiredOption('--url <url>', 'endpoint URL')
  .option('--events <names>', 'comma-separated event types ("*" and "prefix.*" allowed); default all')
  .option('--uid <uid>', 'customer source id')
  .option('--app <app>', 'the application (id or uid) it belongs to; default: organization-level')
  .option('--header <name:value...>', 'custom header sent on every delivery')
  .option('--retry-schedule <delays>', 'comma-separated delays, e.g. 1m,5m; "" for a single attempt')
  .option('--max-in-flight <n>', 'attempts in flight to it at once, per worker process (1-1000); default: the deployment\'s')
  .action(async (o: { url: string; events?: string; uid?: string; app?: string; header?: string[]; retrySchedule?: string; maxInFlight?: string }) => {
    const headers = Object.fromEntries((o.header ?? []).map((h) => [h.slice(0, h.indexOf(':')).trim(), h.slice(h.indexOf(':') + 1).trim()]));
    const wh = await client().webhooks.create({
      url: o.url,
      application: o.app,
      events: o.events ? o.events.split(',').map((s) => s.trim()) : undefined,
      uid: o.uid,
      headers: o.header ? headers : undefined,
      retry_schedule: o.retrySchedule === undefined ? undefined : o.retrySchedule.split(',').filter(Boolean),
      max_in_flight: maxInFlight(o.maxInFlight),
    });
    print(program, wh, `${wh.id} → ${wh.url}\nmax in flight: ${inFlightText(wh.max_in_flight)}\nsecret (shown once): ${wh.secret}`);
  });
webhooks.command('disable <id>').action(async (id: string) => {
  const wh = await client().webhooks.disable(id);
  print(program, wh, `${wh.id} disabled: deliveries hold until enable`);
});
webhooks
  .command('enable <id>')
  .option('--recover-since <iso>', 'also re-deliver what failed since then')
  .action(async (id: string, o: { recoverSince?: string }) => {
    const wh = await client().webhooks.enable(id, { recoverSince: o.recoverSince });
    print(program, wh, `${wh.id} enabled${wh.recovery ? `; recovery ${wh.recovery.id} started` : ''}`);
  });
webhooks.command('delete <id>').action(async (id: string) => {
  await client().webhooks.delete(id);
  print(program, { id, deleted: true }, `${id} deleted`);
});

const apps = program.command('apps').description('applications: your customers');
apps.command('list').option('--q <text>', 'name contains').action(async (o: { q?: string }) => {
  const rows = [];
  for await (const a of client().applications.listAll({ q: o.q })) rows.push(a);
  print(program, rows, table(rows, ['id', 'uid', 'name', 'rate_limit_per_s']));
});
apps
  .command('create <name>')
  .option('--uid <uid>', 'your own customer id (then create = upsert by uid)')
  .option('--meta <key=value...>', 'metadata')
  .option('--rate-limit <perS>', 'a cap over all its webhooks (deliveries/s)')
  .action(async (name: string, o: { uid?: string; meta?: string[]; rateLimit?: string }) => {
    const metadata = o.meta ? Object.fromEntries(o.meta.map((m) => [m.slice(0, m.indexOf('=')), m.slice(m.indexOf('=') + 1)])) : undefined;
    const body = { name, metadata, rate_limit_per_s: o.rateLimit ? Number(o.rateLimit) : undefined };
    const app = o.uid ? await client().applications.upsert(o.uid, body) : await client().applications.create(body);
    print(program, app, `${app.id}${app.uid ? ` (${app.uid})` : ''}: ${app.name}`);
  });
apps.command('get <app>').action(async (app: string) => {
  const a = await client().applications.get(app);
  print(program, a, `${a.id}${a.uid ? ` (${a.uid})` : ''}: ${a.name} ${JSON.stringify(a.metadata)}`);
});
apps.command('stats <app>').action(async (app: string) => {
  const s = await client().applications.stats(app);
  const rate = s.success_rate === null ? '–' : `${(s.success_rate * 100).toFixed(1)} %`;
  print(program, s, `${s.window}: ${s.attempts.succeeded} ok, ${s.attempts.failed} failed (${rate}), p50 ${s.latency_ms.p50 ?? '–'} ms\n${table(s.webhooks, ['id', 'url', 'status', 'health_status'])}`);
});
apps.command('delete <app>').action(async (app: string) => {
  await client().applications.delete(app);
  print(program, { app, deleted: true }, `${app} deleted (its webhooks and keys too)`);
});
program
  .command('portal <app>')
  .description('print a link that opens the consumer portal signed in as this application')
  .option('--expires-in <seconds>', 'session lifetime (default 1 h, at most 7 days)')
  .action(async (app: string, o: { expiresIn?: string }) => {
    const s = await client().applications.portalSession(app, o.expiresIn ? { expires_in: Number(o.expiresIn) } : {});
    print(program, s, `${s.url}\nexpires ${s.expires_at}; anyone with the link acts as this customer until then`);
  });
apps
  .command('key <app>')
  .description('create an API key bound to this application (shown once)')
  .option('--name <name>')
  .option('--expires-at <time>', 'RFC 3339')
  .action(async (app: string, o: { name?: string; expiresAt?: string }) => {
    const k = await client().keys.create({ role: 'application', application: app, name: o.name, expires_at: o.expiresAt });
    print(program, k, `${k.id} (application ${k.application_id}): ${k.key}\nThe key is shown only now.`);
  });

program
  .command('events')
  .description('events')
  .command('publish')
  .requiredOption('--type <type>', 'event type')
  .option('--data <json>', 'event data as JSON', '{}')
  .option('--channel <name...>', 'channels')
  .option('--app <app>', 'the application (id or uid) whose webhooks receive it; default: organization-level webhooks')
  .action(async (o: { type: string; data: string; channel?: string[]; app?: string }) => {
    let data: unknown;
    try {
      data = JSON.parse(o.data);
    } catch {
      fail('--data must be JSON');
    }
    const res = await client().events.publish({ application: o.app, type: o.type, data, channels: o.channel });
    print(program, res, `${res.id} (${res.type}) → ${res.deliveries} deliveries`);
  });

program
  .command('deliveries')
  .description('the delivery log')
  .command('tail')
  .requiredOption('--webhook <id>', 'webhook id')
  .option('--once', 'print the latest deliveries and exit')
  .option('--interval <ms>', 'poll interval', '1000')
  .action(async (o: { webhook: string; once?: boolean; interval: string }) => {
    const api = client();
    const seen = new Map<string, string>();
    const line = (d: Delivery) =>
      `${d.created_at}  ${d.id}  ${d.event.padEnd(24)} ${d.status.padEnd(9)} attempt ${d.attempt}  ${d.status_code ?? '-'}`;
    for (;;) {
      let page;
      try {
        page = await api.webhooks.deliveries(o.webhook, { per_page: 50 });
      } catch (err) {
        // A live follow outlasts an API restart: report and keep polling. A one-shot or a wrong id/key fails.
        if (o.once || (err instanceof HookrelayError && err.status > 0 && err.status < 500 && err.status !== 429)) throw err;
        console.error(`(${err instanceof HookrelayError ? err.code : 'error'}: ${(err as Error).message}; still polling)`);
        await new Promise((r) => setTimeout(r, Number(o.interval)));
        continue;
      }
      for (const d of [...page.data].reverse()) {
        const sig = `${d.status}/${d.attempt}`;
        if (seen.get(d.id) === sig) continue;
        seen.set(d.id, sig);
        console.log(program.opts().json ? JSON.stringify(d) : line(d));
      }
      if (o.once) return;
      await new Promise((r) => setTimeout(r, Number(o.interval)));
    }
  });

program
  .command('recover')
  .description('re-deliver the failed deliveries of a webhook in a window, with progress')
  .requiredOption('--webhook <id>', 'webhook id')
  .requiredOption('--since <iso>', 'start of the window')
  .option('--until <iso>', 'end of the window (default now)')
  .action(async (o: { webhook: string; since: string; until?: string }) => {
    const api = client();
    // Count before starting: the recovery turns failed deliveries back into pending ones as it goes.
    const total = (await api.webhooks.deliveries(o.webhook, { status: 'failed', since: o.since, until: o.until, per_page: 1 })).pagination.total;
    const rec = await api.webhooks.recover(o.webhook, { since: o.since, until: o.until });
    const bar = (n: number) => {
      const width = 30;
      const of = Math.max(total, n);
      const done = of ? Math.min(width, Math.round((n / of) * width)) : width;
      return `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${n}/${of}`;
    };
    const human = !program.opts().json;
    const tty = human && process.stdout.isTTY;
    let shown = -1;
    const done = await api.waitForRecovery(o.webhook, rec.id, {
      onProgress: (r) => {
        if (!human || r.status === 'completed' || r.recovered === shown) return;
        shown = r.recovered;
        // A terminal gets one bar redrawn in place; a pipe or log file gets a line per step.
        if (tty) process.stdout.write(`\r${rec.id} ${bar(r.recovered)}`);
        else console.log(`${rec.id} ${bar(r.recovered)}`);
      },
    });
    if (tty && shown >= 0) process.stdout.write('\r\x1b[2K'); // the final line replaces the live bar
    print(program, done, `${done.id} ${bar(done.recovered)} completed: ${done.recovered} re-delivered`);
  });

program
  .command('listen <port>')
  .description('a local receiver that verifies and prints incoming webhooks')
  .requiredOption('--secret <secret>', 'the webhook secret (whsec_…)')
  .action((port: string, o: { secret: string }) => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          const payload = verifyWebhook(body, req.headers as Record<string, string>, o.secret);
          console.log(program.opts().json ? JSON.stringify({ verified: true, id: req.headers['webhook-id'], payload }) : `✔ ${req.headers['webhook-id']} ${body}`);
          res.writeHead(200).end('ok');
        } catch (err) {
          console.log(program.opts().json ? JSON.stringify({ verified: false, error: (err as Error).message }) : `✘ rejected: ${(err as Error).message}`);
          res.writeHead(400).end('invalid signature');
        }
      });
    });
    server.on('error', (err) => fail(`cannot listen on port ${port}: ${err.message}`));
    server.listen(Number(port), '127.0.0.1', () => {
      const url = `http://127.0.0.1:${port}/`;
      console.log(program.opts().json ? JSON.stringify({ listening: url }) : `listening on ${url} (Ctrl-C stops)`);
    });
  });

program.parseAsync(process.argv).catch(reportError);
