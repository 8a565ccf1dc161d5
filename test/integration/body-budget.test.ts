import { describe, expect, it } from 'vitest';
import { request, type ClientRequest } from 'node:http';
import { newOrg, stack } from '../support/api.js';
import { bodyBudget } from '../../src/api/middleware/request.js';
import { defaultCachedWorkflows } from '../../src/roles/worker.js';

// Memory a caller chooses is bounded (issue 14: the all-in-one process runs in a 256 MB old space): request bodies
// held at once by one process (API_MAX_BODY_BYTES_IN_FLIGHT, 24 MiB by default), and the workflow cache by the heap.

/** Starts a batch request that declares `bytes` and sends only its first byte; resolves with its answer later. */
function holdBatch(key: string, bytes: number): { req: ClientRequest; answer: Promise<{ status: number; body: any; retryAfter?: string }> } {
  const url = new URL(`${stack().apiUrl}/v1/events/batch`);
  let req!: ClientRequest;
  const answer = new Promise<{ status: number; body: any; retryAfter?: string }>((ok, fail) => {
    req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(bytes) } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => ok({ status: res.statusCode!, body: text ? JSON.parse(text) : null, retryAfter: res.headers['retry-after'] as string | undefined }));
      },
    );
    req.on('error', fail);
    req.write('{');
  });
  return { req, answer };
}

describe('request bodies held at once', () => {
  it('over the budget a request gets 503 overloaded before its body is read; under it, requests go on', async () => {
    const { admin } = await newOrg('budget');
    const eightMiB = 8 * 1024 * 1024;
    // Three bodies of 8 MiB fill the 24 MiB budget; a fourth is refused at once, with Retry-After.
    const held = [holdBatch(admin.key, eightMiB), holdBatch(admin.key, eightMiB), holdBatch(admin.key, eightMiB)];
    await new Promise((r) => setTimeout(r, 300));
    const fourth = holdBatch(admin.key, eightMiB);
    const refused = await fourth.answer;
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('overloaded');
    expect(refused.retryAfter).toBe('1');
    fourth.req.destroy();
    // Small requests still pass while the budget is full (what they add fits in the rounding of no one's memory).
    const small = await admin.post('/v1/events/batch', { events: [] });
    expect(small.status).not.toBe(503);
    // The held ones end (their bodies are cut short: invalid JSON), and the budget is free again.
    for (const h of held) h.req.destroy();
    await Promise.allSettled(held.map((h) => h.answer));
    await new Promise((r) => setTimeout(r, 200));
    const again = holdBatch(admin.key, eightMiB);
    const afterwards = await Promise.race([again.answer, new Promise<'pending'>((r) => setTimeout(() => r('pending'), 500))]);
    expect(afterwards).toBe('pending'); // accepted for reading, waiting for its body
    again.req.destroy();
  });

  it('the budget lets one body through alone and small ones always, refuses large ones over it, and is given back', () => {
    const k = 1024;
    const b = bodyBudget(1000 * k);
    expect(b.take(2000 * k, 0)).toBe(true); // alone: always
    expect(b.take(100 * k, 0)).toBe(false); // another large one: refused
    expect(b.take(10 * k, 0)).toBe(true); // a small one: never refused
    b.give(2010 * k);
    expect(b.take(600 * k, 0)).toBe(true);
    expect(b.take(400 * k, 0)).toBe(true);
    expect(b.take(60 * k, 0)).toBe(true); // small
    expect(b.take(10 * k, 60 * k)).toBe(false); // the same body growing past 64 KiB (chunked) is not small any more
    b.give(1060 * k);
    expect(b.used).toBe(0);
  });

  it('the workflow cache is sized by the heap', () => {
    const mib = 1048576;
    expect(defaultCachedWorkflows(290 * mib)).toBe(392); // the all-in-one process: --max-old-space-size=256
    expect(defaultCachedWorkflows(4096 * mib)).toBe(2000);
    expect(defaultCachedWorkflows(150 * mib)).toBe(50);
  });
});
