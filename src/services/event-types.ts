import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { AppError, conflict, notFound, unknownEventType, validationFailed } from '../errors.js';
import { compileRegex } from '../domain/filters.js';
import type { OrgId } from '../domain/ids.js';
import type { Store } from '../storage/mongo.js';
import type { PageQuery } from '../storage/page.js';
import { DuplicateEventTypeError, eventTypeRepo } from '../storage/repos/event-types.js';
import type { EventTypeDoc } from '../storage/types.js';

/** Built into every organization; they cannot be archived. */
export const BUILTIN_EVENT_TYPES = [
  { name: 'webhook.test', description: 'A test event sent from the API or CLI to check an endpoint.' },
  { name: 'webhook.disabled', description: 'Sent to the organization\'s operational webhooks when a webhook is disabled automatically.' },
  { name: 'webhook.failing', description: 'Early warning to the organization\'s operational webhooks: a webhook failed N attempts in a row, or has failed for X hours (once per failing streak).' },
  { name: 'webhook.recovered', description: 'A webhook that was reported failing succeeded again.' },
  { name: 'delivery.exhausted', description: 'A delivery ended failed: every attempt of its retry schedule failed.' },
];

/** Operational events: only organization-level webhooks that list them by name receive them. */
export const OPERATIONAL_EVENT_TYPES = new Set(['webhook.disabled', 'webhook.failing', 'webhook.recovered', 'delivery.exhausted']);

/**
 * `pattern` and `patternProperties` of customers' schemas run on RE2 (linear time), like filter regexes: a schema
 * with `^(a+)+$` cannot stall the API. A pattern RE2 cannot compile makes the schema invalid (400 when saved).
 */
const re2Engine = Object.assign(
  (pattern: string, flags: string) => {
    const re = compileRegex(pattern, flags.replace('u', ''));
    // ajv keys compiled patterns by toString(): each pattern must name itself, or all would share the first.
    return { test: (s: string) => re.matcher(s).find(), toString: () => `/${pattern}/${flags}` };
  },
  { code: 'hookrelay re2' },
);

/** Limits on a customer's JSON Schema: validating an event must stay cheap whatever the schema. */
const MAX_SCHEMA_BYTES = 64 * 1024;
const MAX_SCHEMA_DEPTH = 32;

const ajv = new (Ajv as unknown as typeof Ajv.default)({ allErrors: true, strict: false, code: { regExp: re2Engine as never } });
(addFormats as unknown as typeof addFormats.default)(ajv);
const validators = new Map<string, ValidateFunction>();

export function compileSchema(schema: object): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(schema);
    validators.set(key, v);
  }
  return v;
}

/** Throws unless the JSON Schema itself is valid, within the size and depth limits, and its patterns run on RE2. */
export function checkSchema(schema: object): void {
  const text = JSON.stringify(schema);
  if (text.length > MAX_SCHEMA_BYTES) throw validationFailed(`schema is larger than ${MAX_SCHEMA_BYTES / 1024} KiB`, [{ path: 'schema', message: 'too large' }]);
  if (depthOf(schema) > MAX_SCHEMA_DEPTH) throw validationFailed(`schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`, [{ path: 'schema', message: 'too deep' }]);
  // Patterns are checked here first, so the error names where the unsupported pattern is.
  for (const { path, pattern } of patternsOf(schema)) {
    try {
      compileRegex(pattern);
    } catch (err) {
      throw validationFailed('schema has a pattern that is not supported', [{ path: `schema${path}`, message: (err as Error).message }]);
    }
  }
  try {
    compileSchema(schema);
  } catch (err) {
    throw validationFailed('schema is not a valid JSON Schema', [{ path: 'schema', message: (err as Error).message }]);
  }
}

/** Every `pattern` value and `patternProperties` key of a schema, with where it is. */
function patternsOf(schema: unknown): { path: string; pattern: string }[] {
  const out: { path: string; pattern: string }[] = [];
  const stack: [unknown, string][] = [[schema, '']];
  while (stack.length) {
    const [x, path] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    for (const [k, v] of Object.entries(x)) {
      if (k === 'pattern' && typeof v === 'string') out.push({ path: `${path}.pattern`, pattern: v });
      if (k === 'patternProperties' && v && typeof v === 'object') for (const p of Object.keys(v)) out.push({ path: `${path}.patternProperties`, pattern: p });
      stack.push([v, `${path}.${k}`]);
    }
  }
  return out;
}

function depthOf(v: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const c of Object.values(x)) stack.push([c, d + 1]);
  }
  return max;
}

export async function ensureBuiltinEventTypes(store: Store, orgId: OrgId): Promise<void> {
  const now = new Date();
  const repo = eventTypeRepo(store, orgId);
  for (const t of BUILTIN_EVENT_TYPES) {
    await repo.ensure({ name: t.name, description: t.description, schema: null, deprecated: false, replaced_by: null, archived: false, created_at: now, updated_at: now });
  }
}

export const isBuiltin = (name: string) => BUILTIN_EVENT_TYPES.some((t) => t.name === name);

export type LiveType = { doc: EventTypeDoc; deprecated: boolean };

/**
 * Event types of an organization for publishing, cached per organization and checked against the catalog's revision
 * (read with the webhooks' revision in one document by `_id`, so a publish no longer reads its type): a change to
 * the catalog is seen by the next publish. Like the webhook index, entries also expire after a minute.
 */
export function createTypeCache(store: Store) {
  const MAX_AGE_MS = 60_000;
  const cache = new Map<OrgId, { rev: string; loadedAt: number; types: Map<string, LiveType> }>();
  return {
    async require(orgId: OrgId, name: string, path: string, typesRev: string): Promise<LiveType> {
      let hit = cache.get(orgId);
      if (!hit || hit.rev !== typesRev || Date.now() - hit.loadedAt > MAX_AGE_MS) {
        cache.delete(orgId);
        if (cache.size >= 10_000) cache.delete(cache.keys().next().value!);
        cache.set(orgId, (hit = { rev: typesRev, loadedAt: Date.now(), types: new Map() }));
      }
      const known = hit.types.get(name);
      if (known) return known;
      // Only live types are kept: an unknown or archived one is looked up again each time (and answered 400).
      const live = await requireLiveType(store, orgId, name, path);
      if (hit.types.size < 1000) hit.types.set(name, live);
      return live;
    },
  };
}

/** The live (not archived) event type, or unknown_event_type. */
export async function requireLiveType(store: Store, orgId: OrgId, name: string, path: string): Promise<LiveType> {
  let doc = await eventTypeRepo(store, orgId).get(name);
  if (!doc && isBuiltin(name)) {
    // An organization made before this built-in type existed gets it now.
    await ensureBuiltinEventTypes(store, orgId);
    doc = await eventTypeRepo(store, orgId).get(name);
  }
  if (!doc || doc.archived) throw unknownEventType(name, path);
  return { doc, deprecated: doc.deprecated };
}

/** The `deprecation` response header's text for a deprecated type. */
export const deprecationNote = (doc: EventTypeDoc) => `event type ${doc.name} is deprecated${doc.replaced_by ? `; use ${doc.replaced_by}` : ''}`;

/** Validates `data` against the type's schema; 400 naming each failing path. */
export function validateData(doc: EventTypeDoc, data: unknown, path = 'data'): void {
  if (!doc.schema) return;
  const validate = compileSchema(JSON.parse(doc.schema));
  if (!validate(data)) {
    throw validationFailed(`data does not match the schema of ${doc.name}`, (validate.errors ?? []).map((e) => ({
      path: `${path}${e.instancePath.replace(/\//g, '.')}`,
      message: e.message ?? 'invalid',
    })));
  }
}

export type EventTypeInput = { name: string; description?: string; schema?: object | null; deprecated?: boolean; replaced_by?: string | null };
export type EventTypePatchInput = Partial<Omit<EventTypeInput, 'name'>>;

/** The catalog operations of the API. */
export function eventTypeService(store: Store) {
  async function load(orgId: OrgId, name: string): Promise<EventTypeDoc> {
    const t = await eventTypeRepo(store, orgId).get(name);
    if (!t) throw notFound('event type');
    return t;
  }
  return {
    get: load,
    list: (orgId: OrgId, q: PageQuery & { includeArchived: boolean }) => eventTypeRepo(store, orgId).page(q, q.includeArchived),
    async create(orgId: OrgId, input: EventTypeInput): Promise<EventTypeDoc> {
      if (input.schema) checkSchema(input.schema);
      const now = new Date();
      try {
        return await eventTypeRepo(store, orgId).insert({
          name: input.name, description: input.description ?? '', schema: input.schema ? JSON.stringify(input.schema) : null,
          deprecated: input.deprecated ?? false, replaced_by: input.replaced_by ?? null, archived: false, created_at: now, updated_at: now,
        });
      } catch (err) {
        if (err instanceof DuplicateEventTypeError) throw conflict(`event type ${input.name} exists`);
        throw err;
      }
    },
    async update(orgId: OrgId, name: string, patch: EventTypePatchInput): Promise<EventTypeDoc> {
      const t = await load(orgId, name);
      if (patch.schema) checkSchema(patch.schema);
      const set: Partial<EventTypeDoc> = {};
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.schema !== undefined) set.schema = patch.schema ? JSON.stringify(patch.schema) : null;
      if (patch.deprecated !== undefined) set.deprecated = patch.deprecated;
      if (patch.replaced_by !== undefined) set.replaced_by = patch.replaced_by;
      await eventTypeRepo(store, orgId).set(t.name, set);
      return { ...t, ...set, updated_at: new Date() };
    },
    async archive(orgId: OrgId, name: string): Promise<void> {
      const t = await load(orgId, name);
      if (isBuiltin(t.name)) throw new AppError(409, 'conflict', `${t.name} is built in and cannot be archived`);
      await eventTypeRepo(store, orgId).set(t.name, { archived: true });
    },
  };
}

export type EventTypeService = ReturnType<typeof eventTypeService>;
