import { Pool } from 'undici';

/** A keep-alive client for the hookrelay API (the benchmark's producer). */
export class Api {
  readonly pool: Pool;
  constructor(
    readonly url: string,
    private key: string,
    connections = 64,
  ) {
    this.pool = new Pool(url, { connections, keepAliveTimeout: 60_000 });
  }

  async call<T = unknown>(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', path: string, body?: unknown, timeoutMs = 60_000): Promise<{ status: number; body: T }> {
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // keep text
    }
    return { status: res.statusCode, body: parsed as T };
  }

  async must<T = unknown>(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', path: string, body: unknown, expect: number[]): Promise<T> {
    const r = await this.call<T>(method, path, body);
    if (!expect.includes(r.status)) throw new Error(`${method} ${path} → ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
    return r.body;
  }

  async eventType(name: string) {
    await this.must('POST', '/v1/event-types', { name }, [201, 200, 409]);
  }

  async webhook(url: string, events: string[], extra: Record<string, unknown> = {}): Promise<string> {
    const wh = await this.must<{ id: string }>('POST', '/v1/webhooks', { url, events, ...extra }, [201]);
    return wh.id;
  }

  async deleteWebhook(id: string) {
    await this.call('DELETE', `/v1/webhooks/${id}`).catch(() => {});
  }

  close() {
    return this.pool.close();
  }
}

/** A payload like a typical business webhook (~450 bytes of JSON). */
export function payload(scenario: string, n: number) {
  return {
    scenario,
    n,
    order: {
      id: `ord_${n.toString(36).padStart(8, '0')}`,
      customer: { id: `cus_${(n * 7919).toString(36)}`, email: `customer${n}@example.com`, country: 'DE' },
      items: [
        { sku: 'SKU-1001', qty: 2, price_cents: 1999 },
        { sku: 'SKU-2002', qty: 1, price_cents: 4999 },
      ],
      total_cents: 8997,
      currency: 'EUR',
      note: 'benchmark payload, shaped like an order.paid webhook',
    },
  };
}
