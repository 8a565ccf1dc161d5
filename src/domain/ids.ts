// Prefixed, time-sortable ids (ULID layout: 48-bit ms time + 80 random bits, Crockford base32).
// Workflow-safe: no Node imports; crypto.getRandomValues exists in Node and in the workflow sandbox.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdPrefix = 'org' | 'key' | 'app' | 'wh' | 'evt' | 'dlv' | 'att' | 'rcv' | 'req';

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

/**
 * An id of one kind of object. Branded, so that passing a webhook id where a delivery id is expected does not
 * compile; at run time it is the plain string (`wh_01…`).
 */
export type Id<P extends IdPrefix> = string & { readonly __kind: P };
export type OrgId = Id<'org'>;
export type KeyId = Id<'key'>;
export type AppId = Id<'app'>;
export type WebhookId = Id<'wh'>;
export type EventId = Id<'evt'>;
export type DeliveryId = Id<'dlv'>;
export type AttemptId = Id<'att'>;
export type RecoveryId = Id<'rcv'>;

export const newId = <P extends IdPrefix>(prefix: P, now?: number) => `${prefix}_${ulid(now)}` as Id<P>;

/**
 * An id that came from outside (a URL, a workflow input, a stored document of an older shape), taken as the
 * kind the caller expects. It is not checked: a wrong id simply finds nothing in its tenant's data.
 */
export const asId = <P extends IdPrefix>(_prefix: P, id: string) => id as Id<P>;

/**
 * The id of one attempt of a delivery: derived, so that the same attempt run again (a worker died after sending)
 * finds its own record by `_id` and counts the second send instead of losing it.
 */
export const attemptId = (deliveryId: Id<'dlv'>, attempt: number) => `att_${deliveryId.slice(4)}_${attempt}` as Id<'att'>;
