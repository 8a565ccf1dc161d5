// Prefixed, time-sortable ids (ULID layout: 48-bit ms time + 80 random bits, Crockford base32).
// Workflow-safe: no Node imports; crypto.getRandomValues exists in Node and in the workflow sandbox.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdPrefix = 'org' | 'key' | 'wh' | 'evt' | 'dlv' | 'att' | 'rcv' | 'req';

export function ulid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += ALPHABET[bytes[i] % 32];
  return time + rand;
}

export const newId = (prefix: IdPrefix, now?: number) => `${prefix}_${ulid(now)}`;
