import { HookrelayError } from './errors.js';
import type {
  ApiKey, ApiKeyIn, Application, ApplicationIn, ApplicationStats, Delivery, DeliveryStatus, Event, EventIn, EventType, EventTypeIn, EventTypePatch, Me, Page, PageQuery, Published, Recovery, Webhook,
  WebhookIn, WebhookPatch, WebhookStats,
} from './types.js';

export * from './types.js';
export { HookrelayError } from './errors.js';
// Receivers verify with it; it needs only node:crypto.
export { verifyWebhook, WebhookVerificationError, type VerifyOptions, type WebhookHeaders } from './verify.js';

export type HookrelayOptions = {
  apiKey: string;
  baseUrl?: string;
  /** retries (default 3) on 429/503, and on network errors/502/504 when repeating is safe; exponential backoff with jitter, retry-after honoured */
  maxRetries?: number;
  /** per-request timeout in ms (default 30 s) */
  timeoutMs?: number;
  fetch?: typeof fetch;
};

type Query = Record<string, string | number | boolean | undefined>;
type RequestOptions = {
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** a POST that is safe to repeat although it has no idempotency key */
  repeatable?: boolean;
};

// Gateway errors: the API may or may not have applied the request.
const AMBIGUOUS = new Set([502, 504]);

/** The producer-side client: every endpoint of the REST API, typed. No server dependencies. */
export class Hookrelay {
  private readonly baseUrl: string;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HookrelayOptions) {
    // Fail here rather than with a 401 later: an unset env variable is the usual cause.
    if (!options.apiKey) throw new TypeError('Hookrelay: apiKey is required');
    this.baseUrl = (options.baseUrl ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
    this.maxRetries = options.maxRetries ?? 3;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /**
   * One API call with retries. 429 and 503 are always retried: the API guarantees such a request had no effect.
   * A network error, timeout, 502 or 504 is ambiguous (the request may have been applied), so it is retried only
   * when repeating is harmless: reads, PUT/PATCH/DELETE, and POSTs carrying an idempotency key (every publish).
   * Retrying e.g. rotate-secret blindly could rotate twice and drop the secret receivers still hold.
   */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.apiKey}`, ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const repeatable = method !== 'POST' || 'idempotency-key' in headers || opts.repeatable === true;
    let ambiguous = false; // an earlier attempt may have been applied
    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt < this.maxRetries;
      let res: Response;
      try {
        res = await this.fetchImpl(url, {
          method,
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs),
        });
      } catch (err) {
        if (canRetry && repeatable) {
          ambiguous = true;
          await sleep(backoff(attempt));
          continue;
        }
        // undici reports "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND, …) is in its cause.
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const why = e.name === 'TimeoutError' ? `timed out after ${opts.timeoutMs ?? this.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
        throw new HookrelayError(`cannot reach ${this.baseUrl}: ${why}`, 'network_error', 0, null);
      }
      if (canRetry && (res.status === 429 || res.status === 503 || (repeatable && AMBIGUOUS.has(res.status)))) {
        if (AMBIGUOUS.has(res.status)) ambiguous = true;
        await res.body?.cancel();
        const after = Number(res.headers.get('retry-after'));
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 60_000) : backoff(attempt));
        continue;
      }
      // A DELETE whose first try went through but whose answer was lost sees 404 on the retry: it is done.
      if (method === 'DELETE' && res.status === 404 && ambiguous) return undefined as T;
      const text = await res.text();
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined; // e.g. an HTML error page from a proxy in front of the API
      }
      if (!res.ok) {
        const e = body?.error ?? {};
        const requestId = body?.request_id ?? res.headers.get('x-request-id');
        throw new HookrelayError(e.message ?? `HTTP ${res.status}${text && !body ? `: ${text.slice(0, 200)}` : ''}`, e.code ?? 'http_error', res.status, requestId, e.details ?? []);
      }
      if (res.status !== 204 && text && body === undefined) throw new HookrelayError('the API answered with a body that is not JSON', 'invalid_response', res.status, res.headers.get('x-request-id'));
      return body as T;
    }
  }

  /** Every item of a paginated list, fetching page after page. */
  async *paginate<T>(path: string, query: Query = {}): AsyncGenerator<T> {
    for (let page = 1; ; page++) {
      const res = await this.request<Page<T>>('GET', path, { query: { per_page: 100, ...query, page } });
      yield* res.data;
      if (!res.pagination.has_more) return;
    }
  }

  me = () => this.request<Me>('GET', '/v1/me');

  /** Your customers. Wherever an application is named, its id (`app_…`) or its uid works. */
  applications = {
    create: (body: ApplicationIn) => this.request<Application>('POST', '/v1/applications', { body }),
    /** Create or update the application with your own customer id (PUT /v1/applications/uid/{uid}). */
    upsert: (uid: string, body: Omit<ApplicationIn, 'uid'>) => this.request<Application>('PUT', `/v1/applications/uid/${enc(uid)}`, { body }),
    list: (q: PageQuery & { uid?: string; q?: string } = {}) => this.request<Page<Application>>('GET', '/v1/applications', { query: q }),
    listAll: (q: { uid?: string; q?: string } = {}) => this.paginate<Application>('/v1/applications', q),
    get: (app: string) => this.request<Application>('GET', `/v1/applications/${enc(app)}`),
    update: (app: string, body: Partial<ApplicationIn>) => this.request<Application>('PATCH', `/v1/applications/${enc(app)}`, { body }),
    /** Deletes its webhooks (open deliveries end cancelled) and revokes its keys. */
    delete: (app: string) => this.request<void>('DELETE', `/v1/applications/${enc(app)}`),
    stats: (app: string) => this.request<ApplicationStats>('GET', `/v1/applications/${enc(app)}/stats`),
    webhooks: (app: string, q: PageQuery & { status?: 'active' | 'disabled'; event?: string } = {}) =>
      this.request<Page<Webhook>>('GET', `/v1/applications/${enc(app)}/webhooks`, { query: q }),
    createWebhook: (app: string, body: Omit<WebhookIn, 'application'>) => this.request<Webhook>('POST', `/v1/applications/${enc(app)}/webhooks`, { body }),
    /** A link that opens the consumer portal signed in as this application (token in the URL fragment). */
    portalSession: (app: string, body: { expires_in?: number } = {}) =>
      this.request<{ id: string; application_id: string; url: string; token: string; expires_at: string }>('POST', `/v1/applications/${enc(app)}/portal-sessions`, { body }),
    endPortalSession: (app: string, id: string) => this.request<void>('DELETE', `/v1/applications/${enc(app)}/portal-sessions/${enc(id)}`),
    deliveries: (app: string, q: PageQuery & { status?: DeliveryStatus; event_type?: string; since?: string; until?: string } = {}) =>
      this.request<Page<Delivery>>('GET', `/v1/applications/${enc(app)}/deliveries`, { query: q }),
  };

  /** API keys (admin keys only). The full key is in the answer to create only. */
  keys = {
    create: (body: ApiKeyIn) => this.request<ApiKey & { key: string }>('POST', '/v1/keys', { body }),
    list: (q: PageQuery = {}) => this.request<Page<ApiKey>>('GET', '/v1/keys', { query: q }),
    get: (id: string) => this.request<ApiKey>('GET', `/v1/keys/${enc(id)}`),
    revoke: (id: string) => this.request<void>('DELETE', `/v1/keys/${enc(id)}`),
  };

  eventTypes = {
    create: (body: EventTypeIn) => this.request<EventType>('POST', '/v1/event-types', { body }),
    list: (q: PageQuery & { include_archived?: boolean } = {}) => this.request<Page<EventType>>('GET', '/v1/event-types', { query: q }),
    listAll: (q: { include_archived?: boolean } = {}) => this.paginate<EventType>('/v1/event-types', q),
    get: (name: string) => this.request<EventType>('GET', `/v1/event-types/${enc(name)}`),
    update: (name: string, body: EventTypePatch) => this.request<EventType>('PATCH', `/v1/event-types/${enc(name)}`, { body }),
    archive: (name: string) => this.request<void>('DELETE', `/v1/event-types/${enc(name)}`),
  };

  webhooks = {
    create: (body: WebhookIn) => this.request<Webhook>('POST', '/v1/webhooks', { body }),
    /** Create or replace the webhook of a customer source (PUT /v1/webhooks/uid/{uid}). */
    register: (uid: string, body: Omit<WebhookIn, 'uid'>) => this.request<Webhook>('PUT', `/v1/webhooks/uid/${enc(uid)}`, { body }),
    list: (q: PageQuery & { status?: 'active' | 'disabled'; event?: string; uid?: string; application?: string } = {}) => this.request<Page<Webhook>>('GET', '/v1/webhooks', { query: q }),
    listAll: (q: { status?: 'active' | 'disabled'; event?: string; uid?: string; application?: string } = {}) => this.paginate<Webhook>('/v1/webhooks', q),
    get: (id: string, opts: { includeSecret?: boolean } = {}) =>
      this.request<Webhook>('GET', `/v1/webhooks/${enc(id)}`, { query: { include_secret: opts.includeSecret ? 'true' : undefined } }),
    update: (id: string, body: WebhookPatch) => this.request<Webhook>('PATCH', `/v1/webhooks/${enc(id)}`, { body }),
    disable: (id: string) => this.request<Webhook>('PATCH', `/v1/webhooks/${enc(id)}`, { body: { disabled: true } }),
    enable: (id: string, opts: { recoverSince?: string } = {}) =>
      this.request<Webhook>('PATCH', `/v1/webhooks/${enc(id)}`, { body: { disabled: false, ...(opts.recoverSince ? { recover_since: opts.recoverSince } : {}) } }),
    delete: (id: string) => this.request<void>('DELETE', `/v1/webhooks/${enc(id)}`),
    recover: (id: string, body: { since: string; until?: string }) => this.request<Recovery>('POST', `/v1/webhooks/${enc(id)}/recover`, { body }),
    getRecovery: (id: string, recoveryId: string) => this.request<Recovery>('GET', `/v1/webhooks/${enc(id)}/recoveries/${enc(recoveryId)}`),
    rotateSecret: (id: string, body: { secret?: string } = {}) => this.request<{ secret: string }>('POST', `/v1/webhooks/${enc(id)}/rotate-secret`, { body }),
    /** Waits for the first attempt server-side (up to the webhook's timeout_ms + 5 s), hence the longer client timeout. */
    test: (id: string, body: { event_type?: string; data?: unknown } = {}) =>
      this.request<Delivery>('POST', `/v1/webhooks/${enc(id)}/test`, { body, timeoutMs: Math.max(this.timeoutMs, 70_000) }),
    stats: (id: string, q: { window?: string } = {}) => this.request<WebhookStats>('GET', `/v1/webhooks/${enc(id)}/stats`, { query: q }),
    deliveries: (id: string, q: PageQuery & { status?: string; event?: string; since?: string; until?: string } = {}) =>
      this.request<Page<Delivery>>('GET', `/v1/webhooks/${enc(id)}/deliveries`, { query: q }),
    deliveriesAll: (id: string, q: { status?: string; event?: string; since?: string; until?: string } = {}) =>
      this.paginate<Delivery>(`/v1/webhooks/${enc(id)}/deliveries`, q),
  };

  events = {
    /** Publishes once: the idempotency key (generated unless given) makes retries safe. */
    publish: (body: EventIn, opts: { idempotencyKey?: string } = {}) =>
      this.request<Published>('POST', '/v1/events', { body, headers: { 'idempotency-key': opts.idempotencyKey ?? globalThis.crypto.randomUUID() } }),
    /**
     * All-or-nothing, up to 500 events. Sends an idempotency key too (generated unless given): each event is
     * recognised by its `id`, or by the key and its index, so a batch retried after a lost answer is stored once.
     */
    publishBatch: (events: EventIn[], opts: { idempotencyKey?: string } = {}) =>
      this.request<{ data: Published[] }>('POST', '/v1/events/batch', { body: { events }, headers: { 'idempotency-key': opts.idempotencyKey ?? globalThis.crypto.randomUUID() } }),
    list: (q: PageQuery & { type?: string; application?: string; since?: string; until?: string } = {}) => this.request<Page<Event>>('GET', '/v1/events', { query: q }),
    listAll: (q: { type?: string; application?: string; since?: string; until?: string } = {}) => this.paginate<Event>('/v1/events', q),
    get: (id: string) => this.request<Event>('GET', `/v1/events/${enc(id)}`),
    /** Erases the event's payload (privacy requests): `data` becomes null, the delivery records stay, it is never sent again. */
    erasePayload: (id: string) => this.request<Event>('DELETE', `/v1/events/${enc(id)}/payload`),
  };

  deliveries = {
    get: (id: string) => this.request<Delivery>('GET', `/v1/deliveries/${enc(id)}`),
    retry: (id: string) => this.request<Delivery>('POST', `/v1/deliveries/${enc(id)}/retry`, { body: {} }),
  };

  /** Polls a recover task until it completes; onProgress sees each state. */
  async waitForRecovery(
    webhookId: string,
    recoveryId: string,
    opts: { timeoutMs?: number; intervalMs?: number; onProgress?: (r: Recovery) => void } = {},
  ): Promise<Recovery> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
    for (;;) {
      const r = await this.webhooks.getRecovery(webhookId, recoveryId);
      opts.onProgress?.(r);
      if (r.status === 'completed') return r;
      if (Date.now() > deadline) throw new HookrelayError(`recovery ${recoveryId} still running`, 'timeout', 0, null);
      await sleep(opts.intervalMs ?? 500);
    }
  }
}

const enc = encodeURIComponent;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const backoff = (attempt: number) => Math.min(10_000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
