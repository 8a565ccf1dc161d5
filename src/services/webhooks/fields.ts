import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { unknownEventType, validationFailed, type ErrorDetail } from '../../errors.js';
import { isPublicAddress } from '../../domain/addresses.js';
import { compileFilter } from '../../domain/filters.js';
import { newId, type OrgId } from '../../domain/ids.js';
import { DEFAULT_RETRY_SCHEDULE, validateSchedule } from '../../domain/schedule.js';
import { generateSecret } from '../../domain/signature.js';
import type { Store } from '../../storage/mongo.js';
import type { WebhookDoc, WebhookHeader } from '../../storage/types.js';
import { isAlwaysSecretHeader, sameHeader, SECRET_HEADER_MASK } from '../../domain/secret-headers.js';
import { deprecationNote, requireLiveType } from '../event-types.js';

/** What a caller may set on a webhook (POST, PUT by uid, PATCH). */
export type WebhookInput = {
  url?: string;
  uid?: string | null;
  description?: string;
  events?: string[] | null;
  channels?: string[] | null;
  filter?: Record<string, unknown> | null;
  headers?: Record<string, string>;
  /** More headers whose values are secret, beside those secret by name (src/domain/secret-headers.ts); null = none. */
  secret_headers?: string[] | null;
  retry_schedule?: string[];
  timeout_ms?: number;
  rate_limit_per_s?: number | null;
  /** null = the deployment default (WEBHOOK_DEFAULT_MAX_IN_FLIGHT). */
  max_in_flight?: number | null;
  secret?: string;
};

export type TargetPolicy = { allowHttpTargets: boolean; allowPrivateTargets: boolean; defaultTimeoutMs: number };

/**
 * Without ALLOW_PRIVATE_TARGETS, a URL whose host is, or resolves to, a loopback, private or otherwise non-public
 * address is refused when the webhook is saved (the worker's SSRF guard still checks every connection, since
 * DNS answers change). A name that does not resolve now is left to that check.
 */
async function nonPublicTarget(url: URL): Promise<string | null> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return isPublicAddress(host) ? null : host;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true, verbatim: true });
  } catch {
    return null;
  }
  return addresses.find((a) => !isPublicAddress(a.address))?.address ?? null;
}

/**
 * Checks what needs more than the request schema: the URL policy (https only unless allowed, no credentials),
 * the retry schedule, the payload filter, and that every event name is a live type of the catalog.
 * Returns the deprecation notes of deprecated event names.
 */
export async function checkFields(store: Store, orgId: OrgId, f: WebhookInput, policy: TargetPolicy): Promise<string[]> {
  const problems: ErrorDetail[] = [];
  if (f.url !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(f.url);
    } catch {
      problems.push({ path: 'url', message: 'must be an absolute URL' });
    }
    if (url) {
      const allowed = policy.allowHttpTargets ? ['https:', 'http:'] : ['https:'];
      if (!allowed.includes(url.protocol)) problems.push({ path: 'url', message: policy.allowHttpTargets ? 'must be an http(s) URL' : 'must be an https URL' });
      if (url.username || url.password) problems.push({ path: 'url', message: 'must not contain credentials; use a custom header' });
      if (!policy.allowPrivateTargets && problems.length === 0) {
        const blocked = await nonPublicTarget(url);
        if (blocked) problems.push({ path: 'url', message: `resolves to ${blocked}, which is not a public address` });
      }
    }
  }
  if (f.retry_schedule) {
    for (const p of validateSchedule(f.retry_schedule)) problems.push({ path: `retry_schedule.${p.index}`, message: p.message });
  }
  if (f.filter) {
    try {
      compileFilter(f.filter);
    } catch (err) {
      problems.push({ path: 'filter', message: (err as Error).message });
    }
  }
  if (problems.length) throw validationFailed('the webhook is not valid', problems);
  const deprecations: string[] = [];
  for (const [i, name] of (f.events ?? []).entries()) {
    if (name === '*') continue;
    if (name.endsWith('.*')) {
      if (!/^[A-Za-z0-9_]+([.\-][A-Za-z0-9_]+)*\.\*$/.test(name)) throw unknownEventType(name, `events.${i}`);
      continue;
    }
    const { doc, deprecated } = await requireLiveType(store, orgId, name, `events.${i}`);
    if (deprecated) deprecations.push(deprecationNote(doc));
  }
  return deprecations;
}

/** The WHATWG form of a URL (lower-case scheme and host, default port dropped, path percent-encoded). */
const normalizeUrl = (u: string) => new URL(u).href;

/**
 * The stored list of custom headers. A header is secret when its name says so (isAlwaysSecretHeader) or it is among
 * `marked`; a value sent back masked (SECRET_HEADER_MASK, as the API shows it) keeps the value `existing` has for a
 * secret header of that name, and keeps it secret (showing it takes sending the value itself). Every name in `marked`
 * must be one of the headers.
 */
function toHeaderList(h: Record<string, string>, marked: string[] | null | undefined, existing: WebhookHeader[] = []): WebhookHeader[] {
  const problems: ErrorDetail[] = [];
  const list = Object.entries(h).map(([name, value]) => {
    const secret = isAlwaysSecretHeader(name) || (marked ?? []).some((m) => sameHeader(m, name));
    if (value !== SECRET_HEADER_MASK) return { name, value, secret };
    const kept = existing.find((e) => e.secret && sameHeader(e.name, name));
    if (!kept) problems.push({ path: `headers.${name}`, message: 'the masked value keeps the stored value of a secret header, and this webhook has no secret header of that name' });
    return { name, value: kept?.value ?? '', secret: true };
  });
  for (const [i, m] of (marked ?? []).entries()) {
    if (!list.some((e) => sameHeader(e.name, m))) problems.push({ path: `secret_headers.${i}`, message: `"${m}" is not one of the webhook's headers` });
  }
  if (problems.length) throw validationFailed('the webhook is not valid', problems);
  return list;
}

/** The headers a webhook marked secret itself (those secret by name need no mark). */
const markedOf = (headers: WebhookHeader[]) => headers.filter((e) => e.secret && !isAlwaysSecretHeader(e.name)).map((e) => e.name);

/**
 * The stored form of the fields a PATCH sets. `existing`: the webhook as it is — a masked header value keeps its
 * stored value, marks stay unless `secret_headers` is given, and secret values still stored in plaintext (from
 * before they were sealed) are written again, sealed, with any change.
 */
export function applyFields(f: WebhookInput, existing?: WebhookDoc): Partial<WebhookDoc> {
  const out: Partial<WebhookDoc> = {};
  const before = existing?.headers ?? [];
  // Without secret_headers the marks stay, on the headers that stay.
  const kept = (names: string[], h: Record<string, string>) => names.filter((m) => Object.keys(h).some((k) => sameHeader(k, m)));
  if (f.headers !== undefined) out.headers = toHeaderList(f.headers, f.secret_headers !== undefined ? f.secret_headers : kept(markedOf(before), f.headers), before);
  else if (f.secret_headers !== undefined) out.headers = toHeaderList(Object.fromEntries(before.map((e) => [e.name, e.value])), f.secret_headers, before);
  else if (before.some((e) => e.unsealed)) out.headers = before;
  if (f.url !== undefined) out.url = normalizeUrl(f.url);
  if (f.events !== undefined) out.events = f.events && [...new Set(f.events)];
  if (f.channels !== undefined) out.channels = f.channels;
  if (f.filter !== undefined) out.filter = f.filter ? JSON.stringify(f.filter) : null;
  if (f.retry_schedule !== undefined) out.retry_schedule = f.retry_schedule;
  if (f.timeout_ms !== undefined) out.timeout_ms = f.timeout_ms;
  if (f.rate_limit_per_s !== undefined) out.rate_limit_per_s = f.rate_limit_per_s;
  if (f.max_in_flight !== undefined) out.max_in_flight = f.max_in_flight;
  if (f.description !== undefined) out.description = f.description;
  if (f.uid !== undefined) out.uid = f.uid;
  return out;
}

/**
 * A new webhook from its input; fields left out take their defaults, the secret is generated unless given.
 * `existing`: the webhook a registration by uid replaces (a masked header value keeps its stored value).
 */
export function newWebhook(orgId: OrgId, f: WebhookInput & { url: string }, policy: TargetPolicy, existing?: WebhookDoc): WebhookDoc {
  const now = new Date();
  return {
    _id: newId('wh'),
    org_id: orgId,
    uid: f.uid ?? null,
    url: normalizeUrl(f.url),
    description: f.description ?? '',
    events: f.events ? [...new Set(f.events)] : null,
    channels: f.channels ?? null,
    filter: f.filter ? JSON.stringify(f.filter) : null,
    headers: toHeaderList(f.headers ?? {}, f.secret_headers, existing?.headers),
    retry_schedule: f.retry_schedule ?? DEFAULT_RETRY_SCHEDULE,
    timeout_ms: f.timeout_ms ?? policy.defaultTimeoutMs,
    rate_limit_per_s: f.rate_limit_per_s ?? null,
    max_in_flight: f.max_in_flight ?? null,
    status: 'active',
    disabled_reason: null,
    secret: f.secret ?? generateSecret(),
    previous_secret: null,
    previous_secret_expires_at: null,
    created_at: now,
    updated_at: now,
  };
}

/** How long the previous secret keeps signing (a second signature) after a rotation. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3600 * 1000;

export const rotation = (wh: WebhookDoc, secret: string) => ({
  secret,
  previous_secret: wh.secret,
  previous_secret_expires_at: new Date(Date.now() + PREVIOUS_SECRET_TTL_MS),
});
