import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { compileRegex } from '../domain/filters.js';

/**
 * The JSON Schema engine of event types (ajv), as the schema worker runs it (services/schema-worker.ts): never on
 * the API's event loop, and within a time budget (services/schema-pool.ts).
 *
 * `pattern` and `patternProperties` run on RE2 (linear time), like filter regexes. `uniqueItems` looks each item's
 * canonical form up in a map (ajv's own compares every pair of items: 40,000 integers were 800 million
 * comparisons), and `enum` each value in a set (ajv's compares it with every member).
 */
const re2Engine = Object.assign(
  (pattern: string, flags: string) => {
    const re = compileRegex(pattern, flags.replace('u', ''));
    // ajv keys compiled patterns by toString(): each pattern must name itself, or all would share the first.
    return { test: (s: string) => re.matcher(s).find(), toString: () => `/${pattern}/${flags}` };
  },
  { code: 'hookrelay re2' },
);

/** A string equal for two JSON values exactly when ajv's deep equality holds (object keys in any order). */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return typeof v === 'string' ? JSON.stringify(v) : String(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

type UniqueError = { keyword: string; params: { i: number; j: number }; message: string };
function uniqueItems(this: unknown, schema: boolean, data: unknown[]): boolean {
  const self = uniqueItems as unknown as { errors?: UniqueError[] | null };
  self.errors = null;
  if (!schema || data.length < 2) return true;
  // Numbers and strings are their own keys (two maps: 1 and "1" differ); the rest go by canonical form.
  const numbers = new Map<number, number>();
  const others = new Map<string, number>();
  for (let i = 0; i < data.length; i++) {
    const item = data[i];
    const seen = typeof item === 'number' ? numbers : others;
    const key = typeof item === 'number' ? item : canonical(item);
    const j = (seen as Map<unknown, number>).get(key);
    if (j !== undefined) {
      self.errors = [{ keyword: 'uniqueItems', params: { i, j }, message: `must NOT have duplicate items (items ${j} and ${i} are identical)` }];
      return false;
    }
    (seen as Map<unknown, number>).set(key, i);
  }
  return true;
}

/** One string per JSON value, equal for deep-equal values: numbers, strings and the rest never collide. */
const keyOf = (v: unknown) => (typeof v === 'number' ? `n${v}` : typeof v === 'string' ? `s${v}` : `c${canonical(v)}`);

/** `enum` as a set lookup: ajv's compares the value with each member in turn (a 10,000-member enum, per value). */
function compileEnum(members: unknown[]) {
  const allowed = new Set(members.map(keyOf));
  const validate = (data: unknown) => {
    if (allowed.has(keyOf(data))) return true;
    (validate as unknown as { errors: unknown[] }).errors = [{ keyword: 'enum', params: {}, message: 'must be equal to one of the allowed values' }];
    return false;
  };
  return validate;
}

export function createAjv() {
  const ajv = new (Ajv as unknown as typeof Ajv.default)({ allErrors: true, strict: false, code: { regExp: re2Engine as never } });
  (addFormats as unknown as typeof addFormats.default)(ajv);
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword({ keyword: 'uniqueItems', type: 'array', schemaType: 'boolean', validate: uniqueItems as never, errors: true });
  ajv.removeKeyword('enum');
  ajv.addKeyword({ keyword: 'enum', schemaType: 'array', compile: compileEnum as never, errors: true });
  return ajv;
}

/** Errors reported for one event at most (an array of 100,000 bad items is not 100,000 details). */
export const MAX_REPORTED_ERRORS = 20;

export type SchemaFailure = { path: string; message: string };

/** The failures of `data` against a compiled schema (paths dotted, relative to the data), or [] if it matches. */
export function failuresOf(validate: ValidateFunction, data: unknown): SchemaFailure[] {
  if (validate(data)) return [];
  return (validate.errors ?? []).slice(0, MAX_REPORTED_ERRORS).map((e) => ({ path: e.instancePath.replace(/\//g, '.'), message: e.message ?? 'invalid' }));
}
