import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error plain JS module shared with npm run start:cluster
import { CLUSTER, DYNAMIC_CONFIG_FILE } from '../../scripts/cluster.js';
// @ts-expect-error plain JS module shared with npm start
import { SEARCH_ATTRIBUTES } from '../../scripts/stack.js';
import { SA_EVENT_TYPE, SA_ORG_ID, SA_STATUS, SA_WEBHOOK_ID } from '../../src/domain/search-attributes.js';
import { parseConfig } from '../../src/config.js';

// docker-compose.yml cannot run on these machines (no container engine); the cluster profile (scripts/cluster.js)
// is the same shape and does run, in the suite. This test keeps the two the same where it matters: Temporal
// versions, shards, namespace and retention, search attributes, dynamic config, and the hookrelay environment.
const root = join(import.meta.dirname, '../..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'));
const tools = readFileSync(join(root, 'scripts/tools.sh'), 'utf8');
const svc = (name: string) => compose.services[name];
const tag = (image: string) => image.split(':')[1];

describe('docker-compose.yml and the cluster profile agree', () => {
  it('run the same Temporal server, admin tools and Web UI versions as tools.sh builds', () => {
    const server = tools.match(/^TEMPORAL_SERVER_VERSION=(.+)$/m)?.[1];
    const ui = tools.match(/^TEMPORAL_UI_VERSION=(.+)$/m)?.[1];
    expect(server).toBe(CLUSTER.temporalServerVersion);
    expect(ui).toBe(CLUSTER.temporalUiVersion);
    expect(tag(svc('temporal').image)).toBe(CLUSTER.temporalServerVersion);
    expect(tag(svc('temporal-setup').image).startsWith(`${CLUSTER.temporalServerVersion}-`)).toBe(true);
    expect(tag(svc('temporal-ui').image)).toBe(CLUSTER.temporalUiVersion);
  });

  it('use the same persistence family, history shards, namespace and retention', () => {
    const env = svc('temporal').environment;
    expect(env.DB).toBe('postgres12');
    expect(Number(env.NUM_HISTORY_SHARDS)).toBe(CLUSTER.historyShards);
    expect(env.DEFAULT_NAMESPACE).toBe(CLUSTER.namespace);
    expect(env.DEFAULT_NAMESPACE_RETENTION).toBe(CLUSTER.namespaceRetention);
  });

  it('load the same dynamic config file', () => {
    const env = svc('temporal').environment;
    const mount = (svc('temporal').volumes as string[]).find((v) => v.endsWith(':ro') && v.includes('dynamicconfig'));
    expect(mount).toBeDefined();
    const [host, inContainer] = mount!.split(':');
    expect(join(root, host)).toBe(DYNAMIC_CONFIG_FILE);
    expect(inContainer).toBe(`/etc/temporal/${env.DYNAMIC_CONFIG_FILE_PATH}`);
    expect(parse(readFileSync(DYNAMIC_CONFIG_FILE, 'utf8'))['frontend.rps']).toBeDefined();
  });

  it('register the same search attributes, the ones the code upserts', () => {
    const setup = (svc('temporal-setup').command as string[]).join('\n');
    const names = setup.match(/for name in ([^;]+);/)?.[1].trim().split(/\s+/);
    const code = [SA_WEBHOOK_ID, SA_EVENT_TYPE, SA_ORG_ID, SA_STATUS].map((k) => k.name);
    expect(names).toEqual(code);
    expect(CLUSTER.searchAttributes).toEqual(code);
    expect(SEARCH_ATTRIBUTES).toEqual(code);
    for (const k of [SA_WEBHOOK_ID, SA_EVENT_TYPE, SA_ORG_ID, SA_STATUS]) expect(k.type).toBe('KEYWORD');
  });

  it('run hookrelay in production mode with the same namespace and task queue, and a valid config', () => {
    const env = compose['x-hookrelay'].environment as Record<string, string>;
    expect(env.HOOKRELAY_ENV).toBe('production');
    expect(env.TEMPORAL_NAMESPACE).toBe(CLUSTER.namespace);
    expect(env.TEMPORAL_TASK_QUEUE).toBe(CLUSTER.taskQueue);
    expect(env.ALLOW_HTTP_TARGETS).toBeUndefined();
    expect(env.ALLOW_PRIVATE_TARGETS).toBeUndefined();
    // The environment compose gives the processes parses (placeholders filled in as compose would).
    // Required variables (${X:?…}) get a valid value of their kind, as an operator would give them.
    const required: Record<string, string> = { HOOKRELAY_ADMIN_KEY: `hrk_${'a'.repeat(24)}`, HOOKRELAY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };
    const filled = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)
      .replace(/\$\{[^}]*:-([^}]*)\}/g, '$1')
      .replace(/\$\{(\w+):\?[^}]*\}/g, (_m, name: string) => required[name] ?? '')]));
    const config = parseConfig(filled);
    expect(config.temporal.taskQueue).toBe(CLUSTER.taskQueue);
    expect(config.allowHttpTargets).toBe(false);
    expect(config.allowPrivateTargets).toBe(false);
    expect(config.encryptionKeys).toHaveLength(1);
  });
});
