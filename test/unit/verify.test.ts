import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook, WebhookVerificationError } from '../../sdks/typescript/src/index.js';
import { generateSecret, signatureHeader } from '../../src/domain/signature.js';

// verifyWebhook against signatures made by the standardwebhooks package (a library we did not write).
describe('verifyWebhook', () => {
  const secret = generateSecret();
  const body = JSON.stringify({ id: 'evt_1', type: 'case.complete', data: { case_id: 'prn_1' } });
  const now = new Date();
  const signed = (at = now, s = secret) => ({
    'webhook-id': 'evt_1',
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(s).sign('evt_1', at, body),
  });

  it('accepts a standardwebhooks signature and returns the payload', () => {
    expect(verifyWebhook(body, signed(), secret)).toEqual(JSON.parse(body));
    expect(verifyWebhook(Buffer.from(body), new Headers(signed()), secret)).toEqual(JSON.parse(body));
  });
  it('rejects a wrong secret, a tampered body and missing headers', () => {
    expect(() => verifyWebhook(body, signed(), generateSecret())).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(body.replace('prn_1', 'prn_2'), signed(), secret)).toThrow(/no matching signature/);
    expect(() => verifyWebhook(body, { 'webhook-id': 'evt_1' }, secret)).toThrow(/missing/);
  });
  it('enforces the 5-minute tolerance both ways', () => {
    expect(() => verifyWebhook(body, signed(new Date(Date.now() - 6 * 60_000)), secret)).toThrow(/tolerance/);
    expect(() => verifyWebhook(body, signed(new Date(Date.now() + 6 * 60_000)), secret)).toThrow(/tolerance/);
    expect(verifyWebhook(body, signed(new Date(Date.now() - 4 * 60_000)), secret)).toBeTruthy();
  });
  it('accepts any of several signatures (secret rotation), and ours verify with standardwebhooks', () => {
    const old = generateSecret();
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader([secret, old], 'evt_1', ts, body) };
    expect(verifyWebhook(body, headers, secret)).toBeTruthy();
    expect(verifyWebhook(body, headers, old)).toBeTruthy();
    expect(new Webhook(old).verify(body, headers)).toBeTruthy();
    expect(() => verifyWebhook(body, { ...headers, 'webhook-signature': 'v2,abc v1,AAAA' }, secret)).toThrow();
  });
  it('accepts a header with several standardwebhooks signatures when any one matches', () => {
    const other = generateSecret();
    const multi = { ...signed(), 'webhook-signature': `${new Webhook(other).sign('evt_1', now, body)} ${signed()['webhook-signature']}` };
    expect(verifyWebhook(body, multi, secret)).toEqual(JSON.parse(body));
    expect(verifyWebhook(body, multi, other)).toEqual(JSON.parse(body));
    expect(() => verifyWebhook(body, multi, generateSecret())).toThrow(WebhookVerificationError);
  });
  it('binds the signature to webhook-id and webhook-timestamp, and verifies UTF-8 bodies byte for byte', () => {
    expect(() => verifyWebhook(body, { ...signed(), 'webhook-id': 'evt_2' }, secret)).toThrow(WebhookVerificationError);
    const ts = String(Math.floor(now.getTime() / 1000) + 1);
    expect(() => verifyWebhook(body, { ...signed(), 'webhook-timestamp': ts }, secret)).toThrow(WebhookVerificationError);
    const utf8 = JSON.stringify({ id: 'evt_3', data: { name: 'Zoë – ✓' } });
    const headers = { 'webhook-id': 'evt_3', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('evt_3', now, utf8) };
    expect(verifyWebhook(Buffer.from(utf8, 'utf8'), headers, secret)).toEqual(JSON.parse(utf8));
  });
  it('accepts a plain (non-whsec) secret of 24+ characters', () => {
    const plain = 'a-customer-chosen-secret-1234';
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'x', 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader([plain], 'x', ts, body) };
    expect(verifyWebhook(body, headers, plain)).toBeTruthy();
  });
});
