import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Standard Webhooks signing: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>.
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The HMAC key of a secret: the base64 part of whsec_…, or the raw bytes of a user-given secret. */
export function secretKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) {
    const decoded = Buffer.from(secret.slice(6), 'base64');
    if (decoded.length > 0) return decoded;
  }
  return Buffer.from(secret, 'utf8');
}

export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets.map((s) => sign(s, id, timestamp, body)).join(' ');
}

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/**
 * Receiver-side verification: checks the timestamp is within tolerance and that one of the v1 signatures
 * matches, comparing in constant time. Returns the parsed JSON body.
 */
export function verifyWebhook(
  rawBody: string | Buffer,
  headers: Record<string, string | string[] | undefined> | Headers,
  secret: string,
  opts: { toleranceS?: number; now?: number } = {},
): unknown {
  const get = (name: string): string | undefined => {
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
    const h = headers as Record<string, string | string[] | undefined>;
    const v = h[name] ?? h[name.toLowerCase()] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = get('webhook-id');
  const ts = get('webhook-timestamp');
  const sigs = get('webhook-signature');
  if (!id || !ts || !sigs) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  const timestamp = Number(ts);
  if (!Number.isInteger(timestamp)) throw new WebhookVerificationError('invalid webhook-timestamp');
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const tolerance = opts.toleranceS ?? 300;
  if (Math.abs(now - timestamp) > tolerance) throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const expected = Buffer.from(sign(secret, id, timestamp, body).slice(3), 'base64');
  for (const candidate of sigs.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return JSON.parse(body);
  }
  throw new WebhookVerificationError('no matching signature');
}
