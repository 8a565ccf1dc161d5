import { AppError, conflict, notFound, unknownEventType, validationFailed } from '../errors.js';
import { compileRegex } from '../domain/filters.js';
import type { OrgId } from '../domain/ids.js';
import type { Store } from '../storage/mongo.js';
import type { PageQuery } from '../storage/page.js';
import { DuplicateEventTypeError, eventTypeRepo } from '../storage/repos/event-types.js';
import type { EventTypeDoc } from '../storage/types.js';
import { compileInPool, validateInPool, VALIDATION_BUDGET_MS, type SchemaOutcome } from './schema-pool.js';

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

/** Limits on a customer's JSON Schema: validating an event must stay cheap whatever the schema. */
const MAX_SCHEMA_BYTES = 64 * 1024;
const MAX_SCHEMA_DEPTH = 32;

/**
 * Throws unless the JSON Schema itself is valid, within the size and depth limits, and its patterns run on RE2
 * (`pattern` and `patternProperties` run on RE2, linear time, like filter regexes: `^(a+)+$` cannot stall anything).
 * ajv compiles it in the schema pool's thread, within a budget (services/schema-pool.ts).
 */
export async function checkSchema(schema: object): Promise<void> {
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
  const outcome = await compileInPool(text);
  if (outcome.kind === 'invalid_schema') throw validationFailed('schema is not a valid JSON Schema', [{ path: 'schema', message: outcome.message }]);
  if (outcome.kind === 'over_budget') throw validationFailed('schema is too costly to compile', [{ path: 'schema', message: `compiling it took longer than the limit (${outcome.ms} ms)` }]);
  if (outcome.kind === 'broken') throw new Error(outcome.message);
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

/**
 * What validating one request's events may cost together (thread time): a batch of 500 events each just under the
 * budget of one would otherwise hold a thread for minutes.
 */
export type ValidationBudget = { leftMs: number };
export const validationBudget = (): ValidationBudget => ({ leftMs: VALIDATION_BUDGET_MS });

/**
 * Validates `data` against the type's schema, off the event loop and within the request's budget: 400 naming each
 * failing path (the first 20), or 400 when validating it costs more than the budget (nothing is stored either way).
 */
export async function validateData(doc: EventTypeDoc, data: unknown, path = 'data', budget: ValidationBudget = validationBudget()): Promise<void> {
  if (!doc.schema) return;
  const tooCostly = (ms: number) =>
    validationFailed(`${path} is too costly to validate against the schema of ${doc.name}: the limit is ${VALIDATION_BUDGET_MS} ms for one request's events`, [
      { path, message: `validation stopped after ${ms} ms; simplify the schema (uniqueItems, enum, nested $ref/anyOf/oneOf) or send less data` },
    ]);
  if (budget.leftMs <= 0) throw tooCostly(0);
  const outcome: SchemaOutcome = await validateInPool(doc.schema, data, budget.leftMs);
  budget.leftMs -= outcome.ms;
  switch (outcome.kind) {
    case 'ok':
      return;
    case 'failures':
      throw validationFailed(`data does not match the schema of ${doc.name}`, outcome.failures.map((f) => ({ path: `${path}${f.path}`, message: f.message })));
    case 'over_budget':
      throw tooCostly(outcome.ms);
    case 'invalid_schema':
      // Saved schemas compiled when saved; one that no longer does (an ajv upgrade) refuses its events clearly.
      throw validationFailed(`the schema of ${doc.name} does not compile: ${outcome.message}`, [{ path, message: 'the event type\'s schema is invalid' }]);
    case 'broken':
      throw new Error(outcome.message);
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
      if (input.schema) await checkSchema(input.schema);
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
      if (patch.schema) await checkSchema(patch.schema);
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
