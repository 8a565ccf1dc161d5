import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { unknownEventType, validationFailed } from '../errors.js';
import type { Store } from '../storage/mongo.js';
import type { EventTypeDoc } from '../storage/types.js';

/** Built into every organization; they cannot be archived. */
export const BUILTIN_EVENT_TYPES = [
  { name: 'webhook.test', description: 'A test event sent from the API or CLI to check an endpoint.' },
  { name: 'webhook.disabled', description: 'Sent to the organization\'s operational webhooks when a webhook is disabled automatically.' },
];

const ajv = new (Ajv as unknown as typeof Ajv.default)({ allErrors: true, strict: false });
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

/** Throws unless the JSON Schema itself is valid. */
export function checkSchema(schema: object): void {
  try {
    compileSchema(schema);
  } catch (err) {
    throw validationFailed('schema is not a valid JSON Schema', [{ path: 'schema', message: (err as Error).message }]);
  }
}

export async function ensureBuiltinEventTypes(store: Store, orgId: string): Promise<void> {
  const now = new Date();
  for (const t of BUILTIN_EVENT_TYPES) {
    await store.c.eventTypes.updateOne(
      { _id: eventTypeId(orgId, t.name) },
      {
        $setOnInsert: {
          _id: eventTypeId(orgId, t.name), org_id: orgId, name: t.name, description: t.description, schema: null,
          deprecated: false, replaced_by: null, archived: false, created_at: now, updated_at: now,
        },
      },
      { upsert: true },
    );
  }
}

export const isBuiltin = (name: string) => BUILTIN_EVENT_TYPES.some((t) => t.name === name);

export type LiveType = { doc: EventTypeDoc; deprecated: boolean };

/** The live (not archived) event type, or unknown_event_type. */
export async function requireLiveType(store: Store, orgId: string, name: string, path: string): Promise<LiveType> {
  const doc = await store.c.eventTypes.findOne({ _id: eventTypeId(orgId, name) });
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

/** Event types are keyed by organization and name, so every lookup is by _id. */
export const eventTypeId = (orgId: string, name: string) => `${orgId}:${name}`;
