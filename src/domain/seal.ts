import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

// Secrets at rest (webhook signing secrets): AES-256-GCM with a random 96-bit nonce per value. A sealed value
// is `enc:v1:<key id>:<nonce>:<tag>:<ciphertext>` (base64url parts); the key id (first 8 hex digits of the
// key's SHA-256) says which key of the ring opens it, so keys can rotate: the first key seals, every key opens.

export type Sealer = {
  /** Whether values are sealed at all (false only outside production without a key: an explicit relaxation). */
  readonly enabled: boolean;
  readonly currentKeyId: string | null;
  seal(plain: string): string;
  /** Opens a sealed value; a value stored before sealing was enabled is returned as it is. */
  open(value: string): string;
  /** The key id a stored value was sealed with (null: not sealed). */
  keyIdOf(value: string): string | null;
};

const PREFIX = 'enc:v1:';

export const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

/** A key from its text: 32 bytes, as base64 (44 characters) or hex (64). */
export function parseKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('an encryption key is 32 bytes, written as base64 (44 characters) or hex (64)');
  return key;
}

export const generateKey = () => randomBytes(32).toString('base64');

export function createSealer(keys: Buffer[]): Sealer {
  const ring = new Map(keys.map((k) => [keyId(k), k]));
  const current = keys[0] ?? null;
  const currentId = current ? keyId(current) : null;
  const b64 = (b: Buffer) => b.toString('base64url');
  return {
    enabled: current !== null,
    currentKeyId: currentId,
    seal(plain) {
      if (!current) return plain;
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, nonce);
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${PREFIX}${currentId}:${b64(nonce)}:${b64(cipher.getAuthTag())}:${b64(ct)}`;
    },
    open(value) {
      if (!value.startsWith(PREFIX)) return value;
      const [id, nonce, tag, ct] = value.slice(PREFIX.length).split(':');
      const key = ring.get(id);
      if (!key) throw new Error(`a secret is sealed with key ${id}, which is not among the configured encryption keys`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    },
    keyIdOf(value) {
      return value.startsWith(PREFIX) ? value.slice(PREFIX.length).split(':')[0] : null;
    },
  };
}
