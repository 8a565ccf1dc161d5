import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Command } from 'commander';
import { Hookrelay, HookrelayError, verifyWebhook, type Delivery, type EventType, type EventTypePatch } from '../../sdks/typescript/src/index.js';
import { parseDuration } from '../domain/durations.js';
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

/** A JSON option's value, or `@file` to read it from a file; anything else stops here, naming the option. */
function jsonOption(name: string, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (err) {
      fail(`${name}: cannot read ${value.slice(1)}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    fail(`${name} must be JSON (or @file with JSON in it): ${value}`);
  }
}

/** `--timeout 10s` / `1500ms` / `10000` (milliseconds) → milliseconds for the API to check (1s–60s). */
function timeoutOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) : parseDuration(value.trim());
  if (ms === null) fail(`--timeout: "${value}" is not a duration (e.g. 10s, 1500ms, or milliseconds)`);
  return ms;
}

/** `--header 'Name: value'` (repeatable) → headers; a header without a colon stops here. */
function headersOption(values: string[] | undefined): Record<string, string> | undefined {
  if (!values) return undefined;
  return Object.fromEntries(
    values.map((h) => {
      const at = h.indexOf(':');
      if (at <= 0) fail(`--header: "${h}" is not "Name: value"`);
      return [h.slice(0, at).trim(), h.slice(at + 1).trim()];
    }),
  );
}

const list = (value: string | undefined) => (value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter(Boolean));

const webhooks = program.command('webhooks').description('webhooks: the endpoints events are delivered to');
webhooks
  .command('list')
  .description('list webhooks (secrets are never listed)')
  .option('--status <status>', 'active or disabled')
  .option('--app <app>', 'only this application\'s (id or uid)')
  .action(async (o: { status?: 'active' | 'disabled'; app?: string }) => {
    const rows = [];
    for await (const wh of client().webhooks.listAll({ status: o.status, application: o.app })) rows.push(wh);
    print(program, rows, table(rows, ['id', 'url', 'events', 'status', 'health_status', 'max_in_flight']));
  });

/** A number option for the API to check the range of; anything that is not a number stops here, naming it. */
function numberOption(name: string, value: string | undefined, what = 'a number'): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*-?\d+(\.\d+)?\s*$/.test(value)) fail(`${name}: "${value}" is not ${what}`);
  return Number(value);
}
const maxInFlight = (value: string | undefined) => numberOption('--max-in-flight', value, 'a number (an integer from 1 to 1000)');
const inFlightText = (n: number | null) => (n === null ? 'deployment default' : String(n));
webhooks
  .command('create')
  .description('create a webhook; its signing secret is printed once')
  .requiredOption('--url <url>', 'endpoint URL')
  .option('--events <names>', 'comma-separated event types ("*" and "prefix.*" allowed); default all')
  .option('--app <app>', 'the application (id or uid) it belongs to; default: organization-level')
  .option('--uid <uid>', 'your id for this customer source (unique within its application)')
  .option('--description <text>', 'a note for people')
  .option('--secret <secret>', 'the signing secret (whsec_… or any 24+ characters); default: generated')
  .option('--channels <names>', 'comma-separated channels; default every channel')
  .option('--filter <json>', 'MongoDB-style query on the envelope, e.g. \'{"data.amount":{"$gte":100}}\' (or @file)')
  .option('--header <name:value...>', 'custom header sent on every delivery (repeatable); Authorization, API keys, tokens and the like are kept secret (stored encrypted, shown masked)')
  .option('--secret-header <names>', 'comma-separated names of more --header values to keep secret')
  .option('--timeout <duration>', 'request timeout, 1s–60s (e.g. 10s, or milliseconds); default 15s')
  .option('--retry-schedule <delays>', 'comma-separated delays, e.g. 1m,5m; "" for a single attempt')
  .option('--rate-limit <perS>', 'deliveries per second to it, at most')
  .option('--max-in-flight <n>', 'attempts in flight to it at once, per worker process (1-1000); default: the deployment\'s')
  .action(async (o: {
    url: string; events?: string; uid?: string; app?: string; description?: string; secret?: string; channels?: string; filter?: string;
    header?: string[]; secretHeader?: string; timeout?: string; retrySchedule?: string; rateLimit?: string; maxInFlight?: string;
  }) => {
    const wh = await client().webhooks.create({
      url: o.url,
      application: o.app,
      events: o.events ? list(o.events) : undefined,
      uid: o.uid,
      description: o.description,
      secret: o.secret,
      channels: o.channels ? list(o.channels) : undefined,
      filter: jsonOption('--filter', o.filter) as Record<string, unknown> | undefined,
      headers: headersOption(o.header),
      secret_headers: list(o.secretHeader),
      timeout_ms: timeoutOption(o.timeout),
      retry_schedule: o.retrySchedule === undefined ? undefined : list(o.retrySchedule),
      rate_limit_per_s: numberOption('--rate-limit', o.rateLimit),
      max_in_flight: maxInFlight(o.maxInFlight),
    });
    print(program, wh, `${wh.id} → ${wh.url}\nmax in flight: ${inFlightText(wh.max_in_flight)}\nsecret (shown once): ${wh.secret}`);
  });
webhooks
  .command('get <id>')
  .description('one webhook with its latest deliveries')
  .option('--show-secret', 'include the signing secret')
  .action(async (id: string, o: { showSecret?: boolean }) => {
    const wh = await client().webhooks.get(id, { includeSecret: o.showSecret });
    const lines = [
      `${wh.id} → ${wh.url}  ${wh.status}, ${wh.health_status}`,
      `events: ${wh.events ? wh.events.join(', ') : 'all'}${wh.application_id ? `  application: ${wh.application_id}` : ''}`,
      `timeout: ${wh.timeout_ms} ms  retry schedule: ${wh.retry_schedule.length ? wh.retry_schedule.join(', ') : 'a single attempt'}`,
      ...(wh.filter ? [`filter: ${JSON.stringify(wh.filter)}`] : []),
      ...(wh.secret ? [`secret: ${wh.secret}`] : []),
    ];
    print(program, wh, lines.join('\n'));
  });
webhooks
  .command('stats <id>')
  .description("a webhook's attempts, success rate, deliveries and latency over a window (docs/api.md, 'Statistics')")
  .option('--window <duration>', 'e.g. 1h, 24h, 7d (at most 90d)', '24h')
  .action(async (id: string, o: { window: string }) => {
    const s = await client().webhooks.stats(id, { window: o.window });
    const rate = s.success_rate === null ? '–' : `${(s.success_rate * 100).toFixed(1)} %`;
    const ms = (v: number | null) => (v === null ? '–' : `${v} ms`);
    print(program, s, [
      `${s.window}: attempts ${s.attempts.succeeded} succeeded, ${s.attempts.failed} failed (${rate} of attempts); health ${s.health_status}`,
      `deliveries: ${s.deliveries.delivered} delivered, ${s.deliveries.failed} failed, ${s.deliveries.pending} pending`,
      `latency p50 / p95 / p99: ${ms(s.latency_ms.p50)} / ${ms(s.latency_ms.p95)} / ${ms(s.latency_ms.p99)}`,
    ].join('\n'));
  });
webhooks
  .command('disable <id>')
  .description('pause deliveries: in-flight ones hold, new events are kept')
  .action(async (id: string) => {
    const wh = await client().webhooks.disable(id);
    print(program, wh, `${wh.id} disabled: deliveries hold until enable`);
  });
webhooks
  .command('enable <id>')
  .description('resume: held deliveries are released in publication order')
  .option('--recover-since <iso>', 'also re-deliver what failed since then')
  .action(async (id: string, o: { recoverSince?: string }) => {
    const wh = await client().webhooks.enable(id, { recoverSince: o.recoverSince });
    print(program, wh, `${wh.id} enabled${wh.recovery ? `; recovery ${wh.recovery.id} started` : ''}`);
  });
webhooks
  .command('delete <id>')
  .description('delete a webhook; its running deliveries end cancelled')
  .action(async (id: string) => {
    await client().webhooks.delete(id);
    print(program, { id, deleted: true }, `${id} deleted`);
  });

const eventTypes = program.command('event-types').description('the event type catalog: publishing and subscribing need a type in it');
const typeLine = (t: EventType) =>
  `${t.name}${t.archived ? ' (archived)' : ''}${t.deprecated ? ` (deprecated${t.replaced_by ? `: use ${t.replaced_by}` : ''})` : ''}${t.description ? ` — ${t.description}` : ''}`;
eventTypes
  .command('create <name>')
  .description('add an event type to the catalog')
  .option('--description <text>', 'what the event means')
  .option('--schema <json>', 'a JSON Schema events of this type are validated against (or @file)')
  .option('--deprecated', 'mark it deprecated (still accepted, with a deprecation header)')
  .option('--replaced-by <name>', 'the type that replaces it')
  .action(async (name: string, o: { description?: string; schema?: string; deprecated?: boolean; replacedBy?: string }) => {
    const t = await client().eventTypes.create({ name, description: o.description, schema: jsonOption('--schema', o.schema) as object | undefined, deprecated: o.deprecated, replaced_by: o.replacedBy });
    print(program, t, `created ${typeLine(t)}`);
  });
eventTypes
  .command('list')
  .description('list the catalog')
  .option('--include-archived', 'archived types too')
  .action(async (o: { includeArchived?: boolean }) => {
    const rows = [];
    for await (const t of client().eventTypes.listAll({ include_archived: o.includeArchived })) rows.push(t);
    const view = rows.map((t) => ({ ...t, state: t.archived ? 'archived' : t.deprecated ? `deprecated${t.replaced_by ? ` → ${t.replaced_by}` : ''}` : 'live', schema: t.schema ? 'yes' : 'no' }));
    print(program, rows, table(view, ['name', 'state', 'schema', 'description']));
  });
eventTypes
  .command('get <name>')
  .description('one event type with its schema')
  .action(async (name: string) => {
    const t = await client().eventTypes.get(name);
    print(program, t, `${typeLine(t)}${t.schema ? `\nschema: ${JSON.stringify(t.schema, null, 2)}` : ''}`);
  });
eventTypes
  .command('update <name>')
  .description('change the description, schema or deprecation of an event type')
  .option('--description <text>', 'what the event means')
  .option('--schema <json>', 'a JSON Schema (or @file); "null" removes it')
  .option('--deprecated', 'mark it deprecated')
  .option('--no-deprecated', 'no longer deprecated')
  .option('--replaced-by <name>', 'the type that replaces it; "" for none')
  .action(async (name: string, o: { description?: string; schema?: string; deprecated?: boolean; replacedBy?: string }) => {
    const body: EventTypePatch = {};
    if (o.description !== undefined) body.description = o.description;
    if (o.schema !== undefined) body.schema = jsonOption('--schema', o.schema) as object | null;
    if (o.deprecated !== undefined) body.deprecated = o.deprecated;
    if (o.replacedBy !== undefined) body.replaced_by = o.replacedBy === '' ? null : o.replacedBy;
    if (Object.keys(body).length === 0) fail('nothing to change: give --description, --schema, --deprecated/--no-deprecated or --replaced-by');
    const t = await client().eventTypes.update(name, body);
    print(program, t, `updated ${typeLine(t)}`);
  });
eventTypes
  .command('archive <name>')
  .description('archive an event type: new publishes and subscriptions are refused, history stays')
  .action(async (name: string) => {
    await client().eventTypes.archive(name);
    print(program, { name, archived: true }, `${name} archived`);
  });

const apps = program.command('apps').description('applications: your customers, each with its own webhooks and delivery log');
apps.command('list').description('list applications').option('--q <text>', 'name contains').action(async (o: { q?: string }) => {
  const rows = [];
  for await (const a of client().applications.listAll({ q: o.q })) rows.push(a);
  print(program, rows, table(rows, ['id', 'uid', 'name', 'rate_limit_per_s']));
});
apps
  .command('create <name>')
  .description('create an application (with --uid: create or update it by your own customer id)')
  .option('--uid <uid>', 'your own customer id (then create = upsert by uid)')
  .option('--meta <key=value...>', 'metadata')
  .option('--rate-limit <perS>', 'a cap over all its webhooks (deliveries/s)')
  .action(async (name: string, o: { uid?: string; meta?: string[]; rateLimit?: string }) => {
    const metadata = o.meta ? Object.fromEntries(o.meta.map((m) => [m.slice(0, m.indexOf('=')), m.slice(m.indexOf('=') + 1)])) : undefined;
    const body = { name, metadata, rate_limit_per_s: numberOption('--rate-limit', o.rateLimit) };
    const app = o.uid ? await client().applications.upsert(o.uid, body) : await client().applications.create(body);
    print(program, app, `${app.id}${app.uid ? ` (${app.uid})` : ''}: ${app.name}`);
  });
apps.command('get <app>').description('one application (id or uid)').action(async (app: string) => {
  const a = await client().applications.get(app);
  print(program, a, `${a.id}${a.uid ? ` (${a.uid})` : ''}: ${a.name} ${JSON.stringify(a.metadata)}`);
});
apps.command('stats <app>').description("an application's attempts, success rate and latency over 24 h, and each webhook's health").action(async (app: string) => {
  const s = await client().applications.stats(app);
  const rate = s.success_rate === null ? '–' : `${(s.success_rate * 100).toFixed(1)} %`;
  print(program, s, `${s.window}: attempts ${s.attempts.succeeded} succeeded, ${s.attempts.failed} failed (${rate} of attempts), p50 ${s.latency_ms.p50 ?? '–'} ms\n${table(s.webhooks, ['id', 'url', 'status', 'health_status'])}`);
});
apps.command('delete <app>').description('delete an application with its webhooks and keys').action(async (app: string) => {
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
  .description('events: what your services publish')
  .command('publish')
  .description('publish an event to the webhooks that match it (its type must be in the catalog: event-types create)')
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
  .description("follow a webhook's delivery log live (new deliveries and each change of state)")
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

/**
 * The secrets of the webhooks whose URL points at this listener (loopback, this port), read from the API: a
 * request no known secret verifies waits for a read that started after it arrived (reads start at most once a
 * second), so webhooks created or rotated after the listener started are verified too.
 */
function secretsFromApi(port: number) {
  const known = new Map<string, string>();
  const here = (url: string) => {
    try {
      const u = new URL(url);
      return ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) && Number(u.port || (u.protocol === 'https:' ? 443 : 80)) === port;
    } catch {
      return false;
    }
  };
  const read = async () => {
    const api = client();
    const fresh = new Map<string, string>();
    for await (const wh of api.webhooks.listAll()) {
      if (!here(wh.url)) continue;
      const full = await api.webhooks.get(wh.id, { includeSecret: true });
      if (full.secret) fresh.set(wh.id, full.secret);
    }
    known.clear();
    for (const [id, secret] of fresh) known.set(id, secret);
  };
  let startedAt = 0; // when the latest read started
  let reading: Promise<void> | null = null;
  return {
    known,
    /** Resolves once a read that started at or after `t` has ended; reads start at most once a second. */
    async readSince(t: number): Promise<void> {
      for (;;) {
        if (reading) {
          const [running, started] = [reading, startedAt];
          await running.catch(() => {});
          if (started >= t) return;
          continue;
        }
        if (startedAt >= t) return;
        const wait = startedAt + 1000 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (reading) continue;
        startedAt = Date.now();
        reading = read().finally(() => {
          reading = null;
        });
        return reading;
      }
    },
  };
}

program
  .command('listen <port>')
  .description('a local receiver that prints each request with its path; with --secret or --from-api it verifies signatures too')
  .option('--secret <secret...>', 'a webhook secret (whsec_…) to verify with; repeatable: a request verified by any one is accepted')
  .option('--from-api', 'also verify with the secrets of the webhooks whose URL points at this listener, read from the API as they are created')
  .addHelpText('after', `
Without --secret or --from-api every request is printed as unverified and answered 200 (a receiver for trying
things out). With secrets, a request that none of them verifies is printed as rejected and answered 400, so its
delivery fails and is retried. Several webhooks can share one listener: give each one a path (…/acme, …/globex)
and every secret, or let --from-api read them (with --api-key / HOOKRELAY_API_KEY).`)
  .action(async (port: string, o: { secret?: string[]; fromApi?: boolean }) => {
    const given = (o.secret ?? []).map((secret, i) => ({ secret, label: `secret ${i + 1}`, json: { secret: i + 1 } as Record<string, unknown> }));
    const api = o.fromApi ? secretsFromApi(Number(port)) : null;
    if (api) await api.readSince(Date.now()); // a wrong key or URL stops here, before listening
    const candidates = () => [...given, ...[...(api?.known ?? [])].map(([webhook, secret]) => ({ secret, label: webhook, json: { webhook } as Record<string, unknown> }))];
    const json = program.opts().json;
    const verify = (body: string, headers: Record<string, string>) => {
      let reason = '';
      for (const c of candidates()) {
        try {
          return { c, payload: verifyWebhook(body, headers, c.secret), reason };
        } catch (err) {
          reason ||= (err as Error).message;
        }
      }
      return { c: null, payload: null, reason: reason || 'no secret to verify with' };
    };
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      const arrived = Date.now();
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        const id = (req.headers['webhook-id'] as string | undefined) ?? null;
        if (given.length === 0 && !api) {
          console.log(json ? JSON.stringify({ verified: null, method: req.method, path, id, body }) : `? unverified ${req.method} ${path} ${id ?? '-'} ${body}`);
          res.writeHead(200).end('ok');
          return;
        }
        const headers = req.headers as Record<string, string>;
        let result = verify(body, headers);
        if (!result.c && api) {
          // A webhook created or rotated since the last read: read the secrets again, then try once more.
          await api.readSince(arrived).catch((err) => console.error(`(secrets not read from the API: ${(err as Error).message})`));
          result = verify(body, headers);
        }
        if (result.c) {
          const which = candidates().length > 1 ? ` (${result.c.label})` : '';
          console.log(json ? JSON.stringify({ verified: true, ...result.c.json, method: req.method, path, id, payload: result.payload }) : `✔ ${path} ${id}${which} ${body}`);
          res.writeHead(200).end('ok');
          return;
        }
        console.log(json ? JSON.stringify({ verified: false, method: req.method, path, id, error: result.reason }) : `✘ ${path} ${id ?? '-'} rejected: ${result.reason}`);
        res.writeHead(400).end('invalid signature');
      });
    });
    server.on('error', (err) => fail(`cannot listen on port ${port}: ${err.message}`));
    server.listen(Number(port), '127.0.0.1', () => {
      const url = `http://127.0.0.1:${port}/`;
      const n = candidates().length;
      const mode = api
        ? `verifying with the secrets of the webhooks that point here (${n} now${given.length ? `, ${given.length} given` : ''})`
        : given.length ? `verifying with ${n} secret${n > 1 ? 's' : ''}` : 'not verifying: no --secret';
      console.log(json ? JSON.stringify({ listening: url, secrets: n, from_api: !!api }) : `listening on ${url} (${mode}; Ctrl-C stops)`);
    });
  });

program.parseAsync(process.argv).catch(reportError);
