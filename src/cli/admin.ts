import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseConfig } from '../config.js';
import { openStore, ensureIndexes } from '../storage/mongo.js';
import { createKey, createOrg, getOrg, revokeKey } from '../services/orgs.js';
import { orgRepo } from '../storage/repos/orgs.js';
import { asId } from '../domain/ids.js';
import { createSealer } from '../domain/seal.js';
import { resealWebhookSecrets } from '../services/secrets.js';
import type { Role } from '../services/models.js';
import { fail, print } from './output.js';

// Organization and key administration talks to MongoDB directly (MONGODB_URL / MONGODB_DB), like the API does:
// it is how an operator gets the first key of a new organization.
async function withStore<T>(fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  // Beside a local `npm start`, its data dir's encryption key is the default (like its admin key for the API).
  const localKey = join(process.cwd(), '.data', 'encryption-key');
  const config = parseConfig({
    HOOKRELAY_ENV: 'development',
    ...(existsSync(localKey) && !process.env.HOOKRELAY_ENCRYPTION_KEY ? { HOOKRELAY_ENCRYPTION_KEY_FILE: localKey } : {}),
    ...process.env,
  });
  const store = await openStore(config.mongo.url, config.mongo.db, createSealer(config.encryptionKeys));
  try {
    await ensureIndexes(store);
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function adminCommands(program: Command) {
  const org = program.command('org').description('organizations (talks to MongoDB directly)');
  org
    .command('create <name>')
    .description('create an organization and its first admin key (printed once)')
    .option('--key-name <name>', 'a label for the first key', 'first admin key')
    .action(async (name: string, o: { keyName: string }) => {
      const { created, key } = await withStore(async (s) => {
        const created = await createOrg(s, name);
        const { doc: _stored, ...key } = await createKey(s, created._id, 'admin', o.keyName);
        return { created, key };
      });
      print(
        program,
        { id: created._id, name: created.name, key: { id: key.id, role: key.role, key: key.key } },
        `organization ${created._id} (${created.name})\nadmin key ${key.id}: ${key.key}\nThe key is shown only now (more: key create --org ${created._id}).`,
      );
    });

  org
    .command('set <id>')
    .description("an organization's settings (override the deployment's)")
    .option('--egress-proxy <url>', 'deliveries leave through this HTTP(S) CONNECT proxy; "default" = EGRESS_PROXY_URL')
    .option('--retention-days <n>', 'keep events, deliveries and attempts this many days; "default" = RETENTION_DAYS')
    .action(async (id: string, o: { egressProxy?: string; retentionDays?: string }) => {
      const fields: { egress_proxy_url?: string | null; retention_days?: number | null } = {};
      if (o.egressProxy !== undefined) {
        if (o.egressProxy !== 'default' && !/^https?:\/\/[^\s]+$/.test(o.egressProxy)) fail('--egress-proxy must be an http(s) URL or "default"');
        fields.egress_proxy_url = o.egressProxy === 'default' ? null : o.egressProxy;
      }
      if (o.retentionDays !== undefined) {
        const n = Number(o.retentionDays);
        if (o.retentionDays !== 'default' && !(Number.isInteger(n) && n >= 1 && n <= 3650)) fail('--retention-days must be 1–3650 or "default"');
        fields.retention_days = o.retentionDays === 'default' ? null : n;
      }
      const updated = await withStore(async (s) => {
        if (!(await getOrg(s, asId('org', id)))) fail(`organization ${id} not found`);
        await orgRepo(s).set(asId('org', id), fields);
        return getOrg(s, asId('org', id));
      });
      print(program, updated, `${id}: egress proxy ${updated?.egress_proxy_url ?? 'default'}, retention ${updated?.retention_days ?? 'default'} days`);
    });

  const key = program.command('key').description('API keys (talks to MongoDB directly)');
  key
    .command('create')
    .requiredOption('--org <id>', 'organization id (org_…)')
    .option('--role <role>', 'admin or publisher (application keys: POST /v1/keys or `hookrelay apps key`)', 'admin')
    .option('--name <name>', 'a label for the key')
    .description('create an API key; it is printed once and stored only as a hash')
    .action(async (opts: { org: string; role: string; name?: string }) => {
      if (opts.role !== 'admin' && opts.role !== 'publisher') fail('--role must be admin or publisher');
      const created = await withStore(async (s) => {
        if (!(await getOrg(s, asId('org', opts.org)))) fail(`organization ${opts.org} not found`);
        const { doc: _stored, ...out } = await createKey(s, asId('org', opts.org), opts.role as Role, opts.name ?? null);
        return out;
      });
      print(program, created, `${created.id} (${created.role}): ${created.key}\nThe key is shown only now.`);
    });
  key
    .command('revoke <id>')
    .description('revoke an API key (takes effect within 5 s)')
    .action(async (id: string) => {
      const ok = await withStore((s) => revokeKey(s, asId('key', id)));
      if (!ok) fail(`key ${id} not found or already revoked`);
      print(program, { id, revoked: true }, `revoked ${id}`);
    });

  const secrets = program.command('secrets').description('webhook signing secrets and secret header values at rest (talks to MongoDB directly)');
  secrets
    .command('reseal')
    .description('seal every webhook secret and secret header value with the current encryption key (after a key rotation, or to seal values stored in plaintext by an older version); safe to repeat')
    .action(async () => {
      const result = await withStore((s) => resealWebhookSecrets(s));
      print(program, result, `resealed ${result.resealed} of ${result.total} webhooks with the current key`);
    });
}
