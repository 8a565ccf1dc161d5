import { describe, expect, it } from 'vitest';
import { createSealer, generateKey, keyId, parseKey } from '../../src/domain/seal.js';

describe('secrets at rest (AES-256-GCM)', () => {
  const k1 = parseKey(generateKey());
  const k2 = parseKey(generateKey());

  it('seals with the current key and opens what it sealed; the plaintext is not in the sealed value', () => {
    const s = createSealer([k1]);
    const sealed = s.seal('whsec_plaintext-secret-value');
    expect(sealed).toMatch(/^enc:v1:[0-9a-f]{8}:/);
    expect(sealed).not.toContain('plaintext');
    expect(s.seal('whsec_x')).not.toBe(s.seal('whsec_x')); // a fresh nonce every time
    expect(s.open(sealed)).toBe('whsec_plaintext-secret-value');
    expect(s.keyIdOf(sealed)).toBe(keyId(k1));
  });

  it('rotation: the new key seals, the old one still opens; a value without its key or tampered with fails', () => {
    const old = createSealer([k1]).seal('whsec_old');
    const ring = createSealer([k2, k1]);
    expect(ring.open(old)).toBe('whsec_old');
    expect(ring.keyIdOf(ring.seal('x'))).toBe(keyId(k2));
    expect(() => createSealer([k2]).open(old)).toThrow(/not among the configured encryption keys/);
    const parts = old.split(':');
    parts[5] = Buffer.from('tampered').toString('base64url');
    expect(() => ring.open(parts.join(':'))).toThrow();
  });

  it('without keys (development only) values stay as they are; values stored before sealing open as they are', () => {
    expect(createSealer([]).seal('whsec_a')).toBe('whsec_a');
    expect(createSealer([k1]).open('whsec_legacy')).toBe('whsec_legacy');
  });

  it('keys are 32 bytes in base64 or hex', () => {
    expect(parseKey(Buffer.alloc(32, 1).toString('hex'))).toHaveLength(32);
    expect(() => parseKey('short')).toThrow(/32 bytes/);
  });
});
