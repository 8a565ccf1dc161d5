import * as siftModule from 'sift';
import { RE2JS } from 're2js';

// sift ships CommonJS with a default export; under NodeNext the callable is on .default.
const sift = ((siftModule as unknown as { default?: unknown }).default ?? siftModule) as (
  query: object,
  options?: { operations?: Record<string, unknown> },
) => (doc: unknown) => boolean;

const createEqualsOperation = ((siftModule as unknown as { default?: { createEqualsOperation?: unknown } }).default?.createEqualsOperation ??
  (siftModule as unknown as { createEqualsOperation: unknown }).createEqualsOperation) as (
  test: (value: unknown) => boolean,
  ownerQuery: unknown,
  options: unknown,
) => unknown;

/**
 * A customer's regular expression on RE2 semantics (re2js, linear time in the input): `^(a+)+$` against a long
 * string takes microseconds instead of blocking the event loop for seconds. Patterns RE2 cannot run in linear
 * time (backreferences, lookaround) do not compile and are refused when the webhook or event type is saved.
 * Flags: i, m, s (as MongoDB's $options).
 */
export function compileRegex(pattern: string, flags = ''): RE2JS {
  let f = 0;
  for (const c of flags) {
    if (c === 'i') f |= RE2JS.CASE_INSENSITIVE;
    else if (c === 'm') f |= RE2JS.MULTILINE;
    else if (c === 's') f |= RE2JS.DOTALL;
    else throw new Error(`regex option "${c}" is not supported (i, m, s)`);
  }
  try {
    return RE2JS.compile(pattern, f);
  } catch (err) {
    throw new Error(`regex ${JSON.stringify(pattern)} is not supported: ${(err as Error).message} (RE2 syntax: no backreferences or lookaround)`);
  }
}

const OPERATIONS = {
  // $where would compile a customer-supplied string into a JavaScript function inside our process.
  $where: () => {
    throw new Error('$where is not allowed in filters');
  },
  // $regex runs on RE2, never on the backtracking engine of JavaScript.
  $regex: (pattern: unknown, ownerQuery: { $options?: unknown }, options: unknown) => {
    if (typeof pattern !== 'string') throw new Error('$regex must be a string');
    const re = compileRegex(pattern, typeof ownerQuery?.$options === 'string' ? ownerQuery.$options : '');
    return createEqualsOperation((v) => typeof v === 'string' && re.matcher(v).find(), ownerQuery, options);
  },
};

// Which webhooks an event goes to: event type (exact, "*", "prefix.*"), channels, and a MongoDB-style filter
// on the envelope {id, type, timestamp, channels, data}.
export function eventTypeMatches(subscribed: string[] | null, type: string): boolean {
  if (subscribed === null) return true;
  return subscribed.some((name) => {
    if (name === '*') return true;
    if (name.endsWith('.*')) return type.startsWith(name.slice(0, -1));
    return name === type;
  });
}

export function channelsMatch(subscribed: string[] | null, channels: string[] | null): boolean {
  if (subscribed === null) return true;
  if (!channels || channels.length === 0) return false;
  return channels.some((c) => subscribed.includes(c));
}

export type Envelope = { id: string; type: string; timestamp: string; channels: string[] | null; data: unknown };

const compiled = new Map<string, (doc: unknown) => boolean>();

/** Throws when the filter uses an operator sift does not know, so bad filters are refused at create time. */
export function compileFilter(filter: Record<string, unknown>): (doc: unknown) => boolean {
  return compileStoredFilter(JSON.stringify(filter));
}

/** The same, from the JSON text a webhook stores, which is also the cache key (no parse on a cache hit). */
export function compileStoredFilter(text: string): (doc: unknown) => boolean {
  let test = compiled.get(text);
  if (!test) {
    test = sift(JSON.parse(text), { operations: OPERATIONS });
    // sift compiles lazily in places; a first run surfaces unknown operators now rather than at publish time.
    test({});
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(text, test);
  }
  return test!;
}

export function filterMatches(filter: Record<string, unknown> | null, envelope: Envelope): boolean {
  if (!filter) return true;
  return compileFilter(filter)(envelope);
}
