// Custom headers that carry credentials (docs/api.md, "Webhooks"). Their values are sealed at rest like the signing
// secret, shown masked, and never logged; the worker still sends the real value.

/** Header names whose values are always secret, compared case-insensitively. */
export const ALWAYS_SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key', 'x-auth-token', 'x-access-token'] as const;

/** Any name containing one of these is secret too (X-Customer-Token, X-Webhook-Secret, Api_Key, X-Session-Id, …). */
const SECRET_NAME_PART = /auth|token|secret|passw|api[-_.]?key|cookie|session|credential|signature/i;

/** Whether a header of this name is secret whatever the webhook says. */
export function isAlwaysSecretHeader(name: string): boolean {
  const n = name.toLowerCase();
  return (ALWAYS_SECRET_HEADERS as readonly string[]).includes(n) || SECRET_NAME_PART.test(n);
}

/**
 * What a secret header's value is shown as. Not a valid header value (a header value is Latin-1), so it cannot be
 * mistaken for one: sent back in a write, it means "keep the value stored for this header".
 */
export const SECRET_HEADER_MASK = '••••••••';

/** Header names compared the way HTTP does: case-insensitively. */
export const sameHeader = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
