import { createHmac, timingSafeEqual } from 'node:crypto';

// Standard Webhooks verification, receiver side: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>.
// The worker signs with src/domain/signature.ts; the SDK carries its own copy so that it depends on nothing of
// the server's (test/integration/sdk.test.ts verifies deliveries signed by the real worker with it).

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** The request headers as Node's http module, fetch's Headers or a plain object gives them. */
export type WebhookHeaders = Record<string, string | string[] | undefined> | { get(name: string): string | null };

export type VerifyOptions = {
  /** accepted clock difference in seconds, both ways (default 300) */
  toleranceS?: number;
  /** the current time in ms (default Date.now()) */
  now?: number;
};

/** The HMAC key of a secret: the base64 part of whsec_…, or the raw bytes of a user-given secret. */
function secretKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) {
    const decoded = Buffer.from(secret.slice(6), 'base64');
    if (decoded.length > 0) return decoded;
  }
  return Buffer.from(secret, 'utf8');
}

/**
 * Receiver-side verification: checks the timestamp is within tolerance and that one of the v1 signatures
 * matches, comparing in constant time. Returns the parsed JSON body; throws WebhookVerificationError.
 * Pass the raw body as received, before any JSON parsing.
 */
export function verifyWebhook(rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string, opts: VerifyOptions = {}): unknown {
  const get = (name: string): string | undefined => {
    if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
    const h = headers as Record<string, string | string[] | undefined>;
    const v = h[name] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = get('webhook-id');
  const ts = get('webhook-timestamp');
  const sigs = get('webhook-signature');
  if (!id || !ts || !sigs) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  const timestamp = Number(ts);
  if (!Number.isInteger(timestamp)) throw new WebhookVerificationError('invalid webhook-timestamp');
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > (opts.toleranceS ?? 300)) throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  const body = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength).toString('utf8');
  const expected = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest();
  for (const candidate of sigs.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return JSON.parse(body);
  }
  throw new WebhookVerificationError('no matching signature');
}
