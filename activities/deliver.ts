import { Context } from '@temporalio/activity';
import { attemptId, type AppId, type DeliveryId, type EventId, type WebhookId } from '../src/domain/ids.js';
import { applicationRepo } from '../src/storage/repos/applications.js';
import { orgRepo } from '../src/storage/repos/orgs.js';
import type { OrgId } from '../src/domain/ids.js';
import { TokenBuckets } from '../src/domain/token-bucket.js';
import { FairGate, fairnessKey, type Admission, type AttemptEnd, type GateKey, type Ticket } from '../src/domain/fair-gate.js';
import { nextDelay, parseRetryAfter } from '../src/domain/schedule.js';
import { signatureHeader } from '../src/domain/signature.js';
import { createHealthRecorder } from '../src/services/health.js';
import { OPERATIONAL_EVENT_TYPES } from '../src/services/event-types.js';
import { randomUUID } from 'node:crypto';
import { tenant, type Tenant } from '../src/storage/tenant.js';
import type { AttemptDoc, EventDoc, WaitReason, WebhookDoc } from '../src/storage/types.js';
import type { SendResult } from './http.js';
import { isPathError, type PathError } from './egress.js';
import { isIP } from 'node:net';
import type { AttemptResult, DeliverRequest, DeliverResult } from '../workflows/types.js';
import type { ActivityDeps } from './deps.js';
import { idTime } from './metrics.js';
import { currentTraceparent, inSpan, SpanKind, SpanStatusCode, tracingEnabled } from '../src/tracing.js';

const USER_AGENT = 'hookrelay/0.1 (+https://github.com/hookrelay)';

/**
 * Events never change after publish, so the bodies too large to ride in the workflow input are cached by id —
 * bounded by their total size (32 MiB of text), not only by count: 5,000 bodies of 256 KiB would be over a GiB.
 */
class EventCache {
  private map = new Map<EventId, Pick<EventDoc, '_id' | 'body'>>();
  private chars = 0;
  get(id: EventId) {
    return this.map.get(id);
  }
  set(doc: Pick<EventDoc, '_id' | 'body'>) {
    if (doc.body.length > 4 * 1024 * 1024) return;
    while (this.map.size > 0 && (this.map.size >= 5000 || this.chars + doc.body.length > 32 * 1024 * 1024)) {
      const oldest = this.map.keys().next().value!;
      this.chars -= this.map.get(oldest)!.body.length;
      this.map.delete(oldest);
    }
    this.map.set(doc._id, doc);
    this.chars += doc.body.length;
  }
}

/**
 * The outcomes of the attempts this process finished lately, by workflow run and attempt id. Temporal runs an
 * attempt (a local activity) again when the workflow task that carried its result did not complete — a signal
 * (pause, retry, cancel) arriving while the workflow's last task was open has the server refuse that task and the
 * workflow replay — and the request was already answered. The re-run answers from here (or, in another process,
 * from the attempt's record, made by the same run) without sending it again. Keyed by run: a later run that reuses
 * an attempt number (a retry that read the delivery before its last attempt was recorded) sends.
 */
class FinishedAttempts {
  private map = new Map<string, { result: DeliverResult; at: number }>();
  get(id: string): DeliverResult | undefined {
    const hit = this.map.get(id);
    return hit && Date.now() - hit.at < 10 * 60_000 ? hit.result : undefined;
  }
  set(id: string, result: DeliverResult) {
    if (this.map.size >= 10_000) this.map.delete(this.map.keys().next().value!);
    this.map.set(id, { result, at: Date.now() });
  }
}

/** The workflow run of the attempt being run (null when called outside an activity, e.g. a unit test). */
function currentRun(): { workflowId: string; runId: string } | null {
  try {
    return Context.current().info.workflowExecution ?? null;
  } catch {
    return null;
  }
}

/** An attempt slower than this is `slow` for the webhook's health (timeouts too). */
export const SLOW_ATTEMPT_MS = 5000;
/** Attempts of one application awaited inline for the whole ATTEMPT_INLINE_MS at once, at most (the rest wait SHORT_INLINE_MS). */
const INLINE_PER_APP_SHARE = 0.5;
/** Past those bounds an attempt still waits this long for its answer, so an endpoint that answers at once stays inline. */
const SHORT_INLINE_MS = 50;
/** How long an attempt refused at a fast endpoint waits in line in the worker before it waits in its workflow. */
const QUEUE_INLINE_MS = 250;
const QUEUE_INLINE_MAX = 64;

/** How the adaptive bound sees an attempt's end. */
function endOf(r: { statusCode: number | null; error: string | null }): AttemptEnd {
  if (r.error === 'timeout') return 'timeout';
  return r.statusCode !== null ? 'answered' : 'error';
}

/**
 * How long a refused attempt waits at most before asking again if no wake-up comes (its worker died and its line
 * with it, or the wake-up signal was lost). The waiting deliveries of a worker ask again at about
 * BACKSTOP_ASKS_PER_S in all: 10 s when few wait (a worker killed beside a handful of waiting deliveries is caught
 * up in seconds), longer as more wait (10,000 waiting: ~8 min), never over 15 min. Jittered so that waiters
 * refused together do not come back together.
 */
const BACKSTOP_ASKS_PER_S = 20;
function backstopMs(waiting: number): number {
  const base = Math.min(15 * 60_000, Math.max(10_000, (waiting / BACKSTOP_ASKS_PER_S) * 1000));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export function createDeliver(deps: ActivityDeps) {
  const { store, sender, log } = deps;
  // `rate_limit_per_s` per webhook, per worker process.
  const limiter = new TokenBuckets();
  const events = new EventCache();
  const finished = new FinishedAttempts();
  const health = deps.health ?? createHealthRecorder(store, log);
  const fair = deps.config.fairness;
  const gate = deps.gate ?? new FairGate({ capacity: fair.maxInFlight });
  /** Attempts whose request outlived their activity, by run/attempt: a re-run while it is in flight answers `sent`. */
  const sending = new Map<string, number>();
  /** Attempts awaited inline now, in all and by application. */
  let inline = 0;
  const inlineByApp = new Map<string, number>();
  // An application's rate limit (over all its webhooks), read at most every 5 s per application.
  const appLimits = new Map<AppId, { perS: number | null; at: number }>();
  // An organization's egress proxy (its own, else the deployment's), read at most every 30 s per organization.
  const orgProxies = new Map<OrgId, { url: string | null; at: number }>();
  async function egressProxy(orgId: OrgId): Promise<string | null> {
    const hit = orgProxies.get(orgId);
    if (hit && Date.now() - hit.at < 30_000) return hit.url;
    const org = await orgRepo(store).get(orgId);
    const url = org?.egress_proxy_url ?? deps.config.egressProxyUrl;
    if (orgProxies.size > 10_000) orgProxies.clear();
    orgProxies.set(orgId, { url, at: Date.now() });
    return url;
  }
  async function appLimit(t: Tenant, id: AppId): Promise<number | null> {
    const hit = appLimits.get(id);
    if (hit && Date.now() - hit.at < 5000) return hit.perS;
    const app = await applicationRepo(store, t.orgId).get(id);
    if (appLimits.size > 10_000) appLimits.clear();
    appLimits.set(id, { perS: app?.rate_limit_per_s ?? null, at: Date.now() });
    return app?.rate_limit_per_s ?? null;
  }

  /**
   * The webhook, from memory while the organization's webhook revision has not moved (every change to a webhook
   * writes a new one before it returns, unless that write failed): one read of the revision, shared by the
   * concurrent attempts of all the organization's webhooks, instead of one read per webhook. Read again at least
   * every 2 s whatever the revision says.
   */
  const hooks = new Map<WebhookId, { rev: string; doc: WebhookDoc | null; at: number }>();
  async function webhookOf(t: Tenant, id: WebhookId): Promise<WebhookDoc | null> {
    const rev = await t.webhooks.revision();
    const hit = hooks.get(id);
    if (hit && hit.rev === rev && Date.now() - hit.at < 2000) return hit.doc;
    const doc = await t.webhooks.get(id);
    if (hooks.size >= 10_000) hooks.clear();
    hooks.set(id, { rev, doc, at: Date.now() });
    return doc;
  }

  async function loadEvent(t: Tenant, id: EventId): Promise<Pick<EventDoc, '_id' | 'body'> | null> {
    const cached = events.get(id);
    if (cached) return cached;
    const doc = await t.events.get(id);
    if (doc) events.set(doc);
    return doc;
  }

  function secretsOf(wh: WebhookDoc, now: Date): string[] {
    const secrets = [wh.secret];
    if (wh.previous_secret && wh.previous_secret_expires_at && wh.previous_secret_expires_at > now) secrets.push(wh.previous_secret);
    return secrets;
  }

  /** Operational alerts, each sent once per failing streak (the streak is named by when its failing clock started). */
  const alerts = {
    async failing(t: Tenant, wh: WebhookDoc, since: Date, streak: number, last: { statusCode: number | null; error: string | null }) {
      if (!(await t.webhooks.alerts.claim(wh._id, `${since.getTime()}:failing`))) return;
      await deps.control.notify(wh.org_id, 'webhook.failing', {
        webhook_id: wh._id, application_id: wh.application_id ?? null, uid: wh.uid, url: wh.url, failing_since: since.toISOString(),
        consecutive_failures: streak, last_status_code: last.statusCode, last_error: last.error,
      });
    },
    async recovered(t: Tenant, wh: WebhookDoc, since: Date, at: Date) {
      if (!(await t.webhooks.alerts.sent(wh._id, `${since.getTime()}:failing`))) return;
      if (!(await t.webhooks.alerts.claim(wh._id, `${since.getTime()}:recovered`))) return;
      await deps.control.notify(wh.org_id, 'webhook.recovered', {
        webhook_id: wh._id, application_id: wh.application_id ?? null, uid: wh.uid, url: wh.url, failing_since: since.toISOString(), recovered_at: at.toISOString(),
      });
    },
  };

  /**
   * delivery.exhausted, bounded per webhook (docs/operations.md, "Alerts"): time is cut in windows of
   * `alerts.exhaustedWindowMs` (aligned on the clock). The first delivery of a webhook that this worker ends failed
   * in a window is reported at once (`count: 1`); the others of the window are counted and reported in one summary
   * at the window's end (`count`: how many, with the latest one's fields). So an outage of 10,000 deliveries sends
   * at most two alerts per worker process and window. Kept in memory, nothing written: a worker that stops before
   * the end of the window does not send its summary (the delivery log still lists every failed delivery).
   */
  const exhaustedGroups = new Map<string, { rest: number; latest: Record<string, unknown> | null; deliveries: Set<string> }>();
  const processTag = randomUUID().slice(0, 8);
  async function exhausted(wh: WebhookDoc, req: DeliverRequest, data: Record<string, unknown>): Promise<void> {
    const win = deps.config.alerts.exhaustedWindowMs;
    // The window of now (not of the attempt's end): a reaction that comes late joins the current window, never one
    // whose summary has gone.
    const k = Math.floor(Date.now() / win);
    const key = `${wh._id}:${k}`;
    const window = { window_start: new Date(k * win).toISOString(), window_end: new Date((k + 1) * win).toISOString() };
    const g = exhaustedGroups.get(key);
    if (!g) {
      if (exhaustedGroups.size >= 10_000) return void log.warn({ webhook: wh._id }, 'delivery.exhausted not sent: too many webhooks with alerts pending');
      const group = { rest: 0, latest: null as Record<string, unknown> | null, deliveries: new Set([req.deliveryId]) };
      exhaustedGroups.set(key, group);
      // At the window's end: the summary of the rest, if any.
      setTimeout(() => {
        exhaustedGroups.delete(key);
        if (group.rest === 0) return;
        void notifyExhausted(wh, { ...group.latest, count: group.rest, ...window }, `hookrelay/delivery.exhausted/${wh._id}/${k}/${processTag}`)
          .catch((err: Error) => log.warn({ webhook: wh._id, count: group.rest, err: err.message }, 'delivery.exhausted summary not sent'));
      }, Math.max(0, (k + 1) * win - Date.now()) + 100).unref();
      // The window's first: at once. Its client id makes the publish idempotent (with a '/', which the API refuses
      // in a client's own ids, so none can collide with it).
      await notifyExhausted(wh, { ...data, count: 1, ...window }, `hookrelay/delivery.exhausted/${req.deliveryId}/${req.attempt}`);
      return;
    }
    // A reaction run again for the same delivery (its attempt re-run) is counted once.
    if (g.deliveries.has(req.deliveryId)) return;
    if (g.deliveries.size < 100_000) g.deliveries.add(req.deliveryId);
    g.rest++;
    g.latest = data;
  }

  /** One delivery.exhausted, tried three times (1 s, 2 s apart): its client id makes a repeat answer the first. */
  async function notifyExhausted(wh: WebhookDoc, data: Record<string, unknown>, id: string): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await deps.control.notify(wh.org_id, 'delivery.exhausted', data, id);
        return;
      } catch (err) {
        if (i >= 2) throw err;
        await new Promise((r) => setTimeout(r, 1000 * 2 ** i));
      }
    }
  }

  /** Sends a signal to the attempt's workflow run; a run that has ended needs nothing. Tried a few times. */
  async function signalRun(run: { workflowId: string; runId: string }, name: string, arg?: AttemptResult): Promise<void> {
    if (!deps.signal) return;
    for (let i = 0; i < 5; i++) {
      try {
        await deps.signal(run.workflowId, run.runId, name, arg);
        return;
      } catch (err) {
        if ((err as Error).name === 'WorkflowNotFoundError' || /not found|already completed/i.test((err as Error).message)) return;
        if (i === 4) log.warn({ workflow: run.workflowId, signal: name, err: (err as Error).message }, 'signal not sent; the workflow asks again at its backstop');
        else await new Promise((r) => setTimeout(r, 500 * 2 ** i));
      }
    }
  }

  const gateKey = (wh: WebhookDoc): GateKey => ({ endpoint: wh._id, app: fairnessKey(wh.org_id, wh.application_id), max: wh.max_in_flight ?? fair.defaultMaxInFlight });

  /** A delivery leaves the gate's line (cancelled, held): its reserved place goes to the next. */
  function forget(deliveryId: string) {
    gate.forget(deliveryId);
  }

  /**
   * The delivery log says why a delivery waits: written in the background, a few at a time, and only if it still
   * waits when its turn comes — thousands of refusals at once must not load the database ahead of other tenants'
   * writes (docs/architecture.md, "Fairness").
   */
  const marks = new Map<string, { orgId: OrgId; reason: WaitReason }>();
  let marking = 0;
  function markWaitingSoon(orgId: OrgId, deliveryId: DeliveryId, reason: WaitReason) {
    marks.set(deliveryId, { orgId, reason });
    if (marks.size > 100_000) marks.delete(marks.keys().next().value!);
    while (marking < 4 && marks.size > 0) {
      marking++;
      void (async () => {
        try {
          for (;;) {
            const next = marks.entries().next();
            if (next.done) return;
            const [id, m] = next.value;
            marks.delete(id);
            if (!gate.isWaiting(id)) continue;
            await tenant(store, m.orgId).deliveries.markWaiting(id as DeliveryId, m.reason).catch((err: Error) => log.debug({ err: err.message }, 'waiting mark not written'));
          }
        } finally {
          marking--;
        }
      })();
    }
  }

  /** A refused attempt: in line for a wake-up (with a backstop), and the delivery log told why (once per reason). */
  function refuse(req: DeliverRequest, key: GateKey, reason: WaitReason, run: { workflowId: string; runId: string } | null): DeliverResult {
    if (run) gate.wait(key, req.deliveryId, () => void signalRun(run, 'wake'));
    if (req.waited !== reason) markWaitingSoon(req.orgId, req.deliveryId, reason);
    deps.metrics?.waited(reason);
    return { outcome: 'waiting', reason, delayMs: backstopMs(gate.waitingCount) };
  }

  /**
   * A place at an endpoint that answers fast frees within milliseconds: an attempt refused there waits in line in
   * this process up to QUEUE_INLINE_MS before it goes back to its workflow (measured: a burst to one endpoint,
   * every refused delivery paying two more workflow tasks, delivered half as fast). Only for an endpoint that
   * answered within the last second (one whose requests hang, even before its first timeout, is not waited for),
   * and at most QUEUE_INLINE_MAX at once.
   */
  let queuedInline = 0;
  async function admitSoon(key: GateKey, id: string, run: { workflowId: string; runId: string } | null): Promise<Admission> {
    const first = gate.admit(key, id);
    if (first.ok || !run || !gate.answeredWithin(key.endpoint, 1000) || queuedInline >= QUEUE_INLINE_MAX) return first;
    queuedInline++;
    let timer: NodeJS.Timeout | undefined;
    try {
      let woken = false;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, QUEUE_INLINE_MS);
        gate.wait(key, id, () => {
          woken = true;
          resolve();
        });
      });
      // Woken: its place is reserved. Not woken: still in line, and refuse() makes its wake-up a signal.
      return woken ? gate.admit(key, id) : first;
    } finally {
      clearTimeout(timer);
      queuedInline--;
    }
  }

  /** One attempt: check the webhook still wants it, take a place at the gate, sign, POST, record the outcome. */
  async function deliver(req: DeliverRequest): Promise<DeliverResult> {
    const id = attemptId(req.deliveryId, req.attempt);
    const run = currentRun();
    const runId = run?.runId ?? null;
    const doneKey = runId ? `${runId}/${id}` : null;
    const done = doneKey ? finished.get(doneKey) : undefined;
    if (done) return done;
    const stillSending = doneKey ? sending.get(doneKey) : undefined;
    if (stillSending !== undefined) return { outcome: 'sent', waitMs: stillSending };
    // An attempt the gate will refuse is refused before anything is read: with the webhook known to this process
    // (read in the last minute), no database round trip at all. A change to the webhook (pause, delete) reaches a
    // waiting delivery as a signal, and the full checks run once it is let through.
    const known = hooks.get(req.webhookId);
    if (known?.doc && Date.now() - known.at < 60_000) {
      const key = gateKey(known.doc);
      const reason = gate.peek(key, req.deliveryId);
      if (reason && (!gate.answeredWithin(key.endpoint, 1000) || queuedInline >= QUEUE_INLINE_MAX)) return refuse(req, key, reason, run);
    }
    const t = tenant(store, req.orgId);
    const [wh, event, failingSince] = await Promise.all([
      webhookOf(t, req.webhookId),
      req.body !== undefined ? { _id: req.eventId, body: req.body } : loadEvent(t, req.eventId),
      t.webhooks.failing.since(req.webhookId),
    ]);
    if (!wh || !event) {
      forget(req.deliveryId);
      await t.deliveries.markCancelled(req.deliveryId);
      deps.metrics?.attempt('cancelled', req.eventType, null, null);
      return { outcome: 'cancelled' };
    }
    if (wh.status === 'disabled') {
      forget(req.deliveryId);
      await t.deliveries.markPaused(req.deliveryId);
      deps.metrics?.attempt('held', req.eventType, null, null);
      return { outcome: 'held' };
    }
    if (wh.rate_limit_per_s) {
      const wait = limiter.take(wh._id, wh.rate_limit_per_s);
      if (wait > 0) {
        deps.metrics?.attempt('throttled', req.eventType, null, null);
        return { outcome: 'throttled', delayMs: wait };
      }
    }
    const appPerS = wh.application_id ? await appLimit(t, wh.application_id) : null;
    if (appPerS) {
      const wait = limiter.take(`app:${wh.application_id}`, appPerS);
      if (wait > 0) {
        deps.metrics?.attempt('throttled', req.eventType, null, null);
        return { outcome: 'throttled', delayMs: wait };
      }
    }

    // hookrelay's own path (issue 24, item 2): while the egress proxy or the resolver fails, one attempt a second
    // tries it and the others wait without trying — nothing recorded, nothing sent, no attempt burned.
    const proxy = await egressProxy(wh.org_id);
    const pathDown = sender.egress.refusal(proxy, needsResolver(wh.url));
    if (pathDown) return pathWait(req, t, pathDown, proxy, false);

    // Fairness: room at the endpoint, in the application's share and in the worker, or wait without an attempt.
    const key = gateKey(wh);
    const admission = await admitSoon(key, req.deliveryId, run);
    if (!admission.ok) return refuse(req, key, admission.reason, run);
    const ticket = admission.ticket;
    try {
      // It is being sent: the log stops saying it waits (in the background; the outcome's record clears it too).
      // (Not after a failure of hookrelay's own path: whether it still waits for that is known when this try ends.)
      if (req.waited && !isPathError(req.waited)) void t.deliveries.markWaiting(req.deliveryId, null).catch(() => {});
      return await send(req, { t, wh, event, failingSince, ticket, run, doneKey, id, proxy });
    } catch (err) {
      gate.release(ticket, 'error', false);
      throw err;
    }
  }

  /** A URL whose host is a name (resolved by the worker, directly or before asking the proxy). */
  function needsResolver(url: string): boolean {
    try {
      return !isIP(new URL(url).hostname.replace(/^\[|\]$/g, ''));
    } catch {
      return false;
    }
  }

  /**
   * hookrelay's own path failed (the egress proxy, the DNS resolver): not the customer's failure. The delivery
   * waits and tries again later with the same attempt number (the schedule does not move), its record says why
   * (`waiting.reason`), and neither the webhook's health nor its alerts see it.
   */
  function pathWait(req: DeliverRequest, t: Tenant, reason: PathError, proxy: string | null, tried: boolean): DeliverResult {
    if (req.waited !== reason) void t.deliveries.markWaiting(req.deliveryId, reason).catch((err: Error) => log.debug({ err: err.message }, 'waiting mark not written'));
    deps.metrics?.waited(reason);
    if (tried) deps.metrics?.pathFailed(reason);
    return { outcome: 'waiting', reason, delayMs: sender.egress.retryDelayMs(reason, proxy) };
  }

  type Sending = {
    t: Tenant; wh: WebhookDoc; event: Pick<EventDoc, '_id' | 'body'>; failingSince: Date | null; ticket: Ticket;
    run: { workflowId: string; runId: string } | null; doneKey: string | null; id: ReturnType<typeof attemptId>;
    /** The egress proxy the attempt goes through (null: direct). */
    proxy: string | null;
  };

  /**
   * Signs and sends the attempt and records it. The activity waits for the answer up to a short inline budget; a
   * request that takes longer goes on in this process after the activity returned `sent`, and its outcome reaches
   * the workflow as a signal — so a slow or silent endpoint holds a socket, not one of the worker's task slots.
   */
  async function send(req: DeliverRequest, s: Sending): Promise<DeliverResult> {
    const { t, wh, event, ticket, run, doneKey, id } = s;
    const runId = run?.runId ?? null;
    const now = new Date();
    const timestamp = Math.floor(now.getTime() / 1000);
    const headers: Record<string, string> = {};
    for (const h of wh.headers) headers[h.name] = h.value;
    Object.assign(headers, {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': event._id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(secretsOf(wh, now), event._id, timestamp, event.body),
    });
    // The record goes first: if this worker dies once the request has left, the log still shows it was sent.
    const answered = await t.deliveries.attempts.begin({
      _id: id, org_id: wh.org_id, delivery_id: req.deliveryId, webhook_id: wh._id, attempt: req.attempt,
      status_code: null, duration_ms: 0, error: null, response_body: null, created_at: now, run_id: runId,
    });
    // A try of this attempt that hookrelay's own path failed (proxy, resolver) is no answer: it is sent now, and its
    // record (which still says why the last try failed) gets this try's outcome.
    if (answered && !isPathError(answered.error)) {
      // Answered before (a re-run of the attempt): nothing is sent, the place goes back at once.
      gate.release(ticket, 'answered', false);
      return settle(req, s, now, {
        statusCode: answered.status_code, error: answered.error, durationMs: answered.duration_ms, responseBody: answered.response_body, retryAfter: answered.retry_after ?? null,
      }, answered);
    }
    const post = () => sender.send(wh.url, headers, event.body, wh.timeout_ms, s.proxy);
    // With tracing on, the attempt joins the publish's trace (its context rides in the workflow input) and the
    // receiver gets a `traceparent` header, so one trace runs from POST /v1/events to the endpoint.
    const request = !tracingEnabled()
      ? post()
      : inSpan('hookrelay.attempt', { traceparent: req.traceparent, attributes: { 'hookrelay.attempt': req.attempt, 'hookrelay.event_type': req.eventType } }, () =>
          inSpan('POST', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST' } }, async (span) => {
            const traceparent = currentTraceparent();
            if (traceparent) headers.traceparent = traceparent;
            const r = await post();
            if (r.statusCode !== null) span.setAttribute('http.response.status_code', r.statusCode);
            if (r.error) span.setStatus({ code: SpanStatusCode.ERROR, message: r.error });
            return r;
          }),
        );
    const outcome = request.then((result) => {
      // A failure of hookrelay's own path says nothing of the endpoint's speed.
      gate.release(ticket, endOf(result), !isPathError(result.error) && result.durationMs > fair.inlineMs);
      return settle(req, s, now, result, null);
    });
    // How long the activity waits for the answer: not at all for an endpoint whose latest attempts were slow; only
    // SHORT_INLINE_MS when many attempts (or half of them of one application) are awaited inline already — enough
    // for an endpoint that answers at once (a detached attempt costs its workflow a signal, which waits behind
    // other tasks: measured, a healthy endpoint of an application whose 500 endpoints failed fast waited 10 s);
    // else `inlineMs`.
    const app = ticket.key.app;
    const crowded = inline >= fair.maxInline || (inlineByApp.get(app) ?? 0) >= fair.maxInline * INLINE_PER_APP_SHARE;
    const budget = !run ? Infinity : gate.isSlow(wh._id) ? 0 : crowded ? Math.min(fair.inlineMs, SHORT_INLINE_MS) : fair.inlineMs;
    if (budget > 0) {
      inline++;
      inlineByApp.set(app, (inlineByApp.get(app) ?? 0) + 1);
      let timer: NodeJS.Timeout | undefined;
      try {
        const first = await Promise.race([outcome, new Promise<null>((r) => (timer = setTimeout(() => r(null), budget)))]);
        if (first) return first;
      } finally {
        clearTimeout(timer);
        inline--;
        const n = (inlineByApp.get(app) ?? 1) - 1;
        if (n <= 0) inlineByApp.delete(app);
        else inlineByApp.set(app, n);
      }
    }
    // Detached: the outcome goes to the workflow as a signal. Its backstop covers the request's timeout and the
    // recording; past it the workflow asks again (and gets the recorded answer, or sends again if this worker died).
    const waitMs = wh.timeout_ms + 30_000;
    if (doneKey) sending.set(doneKey, waitMs);
    deps.metrics?.detached();
    void outcome
      .then((result) => signalRun(run!, 'attemptResult', { attempt: req.attempt, result }))
      .catch((err) => log.warn({ delivery: req.deliveryId, err: (err as Error).message }, 'detached attempt not recorded; the workflow asks again at its backstop'))
      .finally(() => {
        if (doneKey) sending.delete(doneKey);
      });
    return { outcome: 'sent', waitMs };
  }

  let reactions = 0;
  /** What follows an attempt's recorded outcome: its health summary, the failing clock, alerts, auto-disable. */
  async function react(req: DeliverRequest, s: Sending, result: SendResult, outcome: DeliverResult, end: Date, ok: boolean, gone: boolean, slow: boolean, answered: boolean): Promise<void> {
    const { t, wh, failingSince } = s;
    // An alert is never raised about the delivery of an alert: an operational webhook that fails its own alerts
    // would otherwise alert itself without end (a delivery.exhausted about each delivery.exhausted). Its attempts
    // still count for its health, its failing clock and auto-disabling; webhook.recovered, once per streak, too.
    const operational = OPERATIONAL_EVENT_TYPES.has(req.eventType);
    // An error here must not fail anything: it is logged, and the next attempt reacts again.
    try {
      const streak = answered ? 0 : await health.record(wh.org_id, wh._id, { ok, at: end, durationMs: result.durationMs, ...(slow ? { slow } : {}) });
      if (ok) {
        if (failingSince) {
          await t.webhooks.failing.clear(wh._id);
          await alerts.recovered(t, wh, failingSince, end);
        }
      } else if (gone) {
        await deps.control.disableAutomatically(wh, 'gone');
      } else if (!failingSince) {
        await t.webhooks.failing.start(wh._id, end);
        // The clock's start is the streak's name: read it back (a concurrent attempt may have started it first).
        if (!operational && streak >= deps.config.alerts.failingAfterAttempts) await alerts.failing(t, wh, (await t.webhooks.failing.since(wh._id)) ?? end, streak, result);
      } else if (end.getTime() - failingSince.getTime() >= deps.config.autoDisableAfterMs) {
        // Failing without a success for longer than the auto-disable limit disables the webhook.
        await deps.control.disableAutomatically(wh, 'failing');
      } else if (!operational && (streak >= deps.config.alerts.failingAfterAttempts || end.getTime() - failingSince.getTime() >= deps.config.alerts.failingAfterMs)) {
        await alerts.failing(t, wh, failingSince, streak, result);
      }
    } catch (err) {
      log.warn({ webhook: wh._id, err: (err as Error).message }, 'reaction to an attempt deferred (auto-disable or alert)');
    }
    // The delivery's end is reported whatever became of the reactions above (a webhook.failing not sent, say).
    try {
      if (outcome.outcome === 'failed' && !operational) {
        await exhausted(wh, req, {
          delivery_id: req.deliveryId, webhook_id: wh._id, application_id: wh.application_id ?? null, event_id: req.eventId, event_type: req.eventType,
          attempts: req.attempt, last_status_code: result.statusCode, last_error: result.error, failed_at: end.toISOString(),
        });
      }
    } catch (err) {
      log.warn({ webhook: wh._id, err: (err as Error).message }, 'delivery.exhausted not sent');
    }
  }

  /** Records an attempt's answer (or takes the recorded one), reacts to it (alerts, auto-disable) and returns the outcome. */
  async function settle(req: DeliverRequest, s: Sending, now: Date, result: SendResult, answered: AttemptDoc | null): Promise<DeliverResult> {
    const { t, doneKey, id } = s;
    if (isPathError(result.error)) {
      // Not the endpoint's failure: the attempt's record says what failed; the delivery waits, the schedule does not
      // move, and nothing reacts (health, failing clock, alerts). Not kept as this run's answer: the next try sends.
      await t.deliveries.attempts.finish(id, { status_code: null, duration_ms: result.durationMs, error: result.error, response_body: null, retry_after: null });
      log.warn({ delivery: req.deliveryId, error: result.error }, 'attempt not made: hookrelay\'s own path failed; the delivery waits');
      return pathWait(req, t, result.error, s.proxy, true);
    }
    const ok = result.error === null;
    const gone = result.statusCode === 410;
    const retryAfterMs = result.statusCode === 429 || result.statusCode === 503 ? parseRetryAfter(result.retryAfter) : null;
    const delay = ok || gone ? null : nextDelay(req.scheduleMs, req.attemptInRun, { retryAfterMs, elapsedSinceFirstMs: req.elapsedSinceFirstMs });
    const outcome: DeliverResult = ok
      ? { outcome: 'delivered' }
      : delay === null
        ? { outcome: 'failed' }
        : { outcome: 'retry', delayMs: delay };

    const end = answered ? new Date(answered.created_at.getTime() + answered.duration_ms) : new Date();
    // The attempt and the delivery state are independent documents: written at once. The health summary is added
    // to in memory (written within a second; services/health.ts). A recorded answer was counted when it came.
    const slow = result.error === 'timeout' || result.durationMs > SLOW_ATTEMPT_MS;
    // The attempt and the delivery state are what the workflow goes on from: written before the outcome returns.
    await Promise.all([
      answered ? null : t.deliveries.attempts.finish(id, { status_code: result.statusCode, duration_ms: result.durationMs, error: result.error, response_body: result.responseBody, retry_after: result.retryAfter?.slice(0, 64) ?? null }),
      t.deliveries.recordOutcome(req.deliveryId, {
        status: outcome.outcome === 'retry' ? 'pending' : (outcome.outcome as 'delivered' | 'failed'),
        attempt: req.attempt,
        statusCode: result.statusCode,
        error: result.error,
        durationMs: result.durationMs,
        nextAttemptAt: outcome.outcome === 'retry' ? new Date(end.getTime() + outcome.delayMs) : null,
        at: end,
      }),
    ]);
    // The health summary (a failure waits for its write: the streak drives alerts) and the reactions to the outcome
    // go on after it returns, so an endpoint failing fast does not hold the worker's task slots for them (measured:
    // 500 endpoints answering 500 held them all and starved every other tenant). At most 256 at once, then the
    // attempt waits for its own. A worker that dies meanwhile loses them for this attempt; the next one reacts again.
    const reaction = react(req, s, result, outcome, end, ok, gone, slow, !!answered);
    reactions++;
    void reaction.finally(() => reactions--);
    if (reactions > 256) await reaction;
    const m = deps.metrics;
    if (m && !answered) {
      m.attempt(outcome.outcome, req.eventType, ok, result.durationMs);
      if (outcome.outcome === 'delivered' || outcome.outcome === 'failed') m.ended(outcome.outcome, req.eventType, req.attempt);
      const published = req.attempt === 1 ? idTime(req.eventId) : null;
      if (published !== null) m.firstAttempt(now.getTime() - published);
    }
    log.debug({ delivery: req.deliveryId, attempt: req.attempt, status: result.statusCode, error: result.error, ms: result.durationMs }, 'attempt');
    if (doneKey) finished.set(doneKey, outcome);
    return outcome;
  }

  return Object.assign(deliver, { gate, forget });
}
