import * as siftModule from 'sift';

// sift ships CommonJS with a default export; under NodeNext the callable is on .default.
const sift = ((siftModule as unknown as { default?: unknown }).default ?? siftModule) as (
  query: object,
  options?: { operations?: Record<string, unknown> },
) => (doc: unknown) => boolean;

// $where would compile a customer-supplied string into a JavaScript function inside our process.
const NO_WHERE = {
  $where: () => {
    throw new Error('$where is not allowed in filters');
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
    test = sift(JSON.parse(text), { operations: NO_WHERE });
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
