import { isDuplicateKey } from '../src/storage/mongo.js';
import { newId } from '../src/domain/ids.js';
import { TokenBuckets } from '../src/domain/token-bucket.js';
import { nextDelay, parseRetryAfter } from '../src/domain/schedule.js';
import { signatureHeader } from '../src/domain/signature.js';
import type { DeliverRequest, DeliverResult } from '../workflows/types.js';
import type { EventDoc, WebhookDoc } from '../src/storage/types.js';
import type { ActivityDeps } from './index.js';

const USER_AGENT = 'hookrelay/0.1 (+https://github.com/hookrelay)';

/** Events never change after publish, so their bodies are cached by id. */
class EventCache {
  private map = new Map<string, EventDoc>();
  get(id: string) {
    return this.map.get(id);
  }
  set(doc: EventDoc) {
    if (this.map.size >= 5000) this.map.delete(this.map.keys().next().value!);
    this.map.set(doc._id, doc);
  }
}

export function createDeliver(deps: ActivityDeps) {
  const { store, sender, log } = deps;
  // `rate_limit_per_s` per webhook, per worker process.
  const limiter = new TokenBuckets();
  const events = new EventCache();

  async function loadEvent(id: string): Promise<Pick<EventDoc, '_id' | 'body'> | null> {
    const cached = events.get(id);
    if (cached) return cached;
    const doc = await store.c.events.findOne({ _id: id });
    if (doc) events.set(doc);
    return doc;
  }

  function secretsOf(wh: WebhookDoc, now: Date): string[] {
    const secrets = [wh.secret];
    if (wh.previous_secret && wh.previous_secret_expires_at && wh.previous_secret_expires_at > now) secrets.push(wh.previous_secret);
    return secrets;
  }

  /** One attempt: check the webhook still wants it, sign, POST, record the attempt and the delivery state. */
  return async function deliver(req: DeliverRequest): Promise<DeliverResult> {
    const { c } = store;
    const [wh, event, failing] = await Promise.all([
      c.webhooks.findOne({ _id: req.webhookId }),
      req.body !== undefined ? { _id: req.eventId, body: req.body } : loadEvent(req.eventId),
      c.webhookFailing.findOne({ _id: req.webhookId }),
    ]);
    if (!wh || !event) {
      await c.deliveries.updateOne({ _id: req.deliveryId }, { $set: { status: 'cancelled', next_attempt_at: null, ended_at: new Date(), updated_at: new Date() } });
      return { outcome: 'cancelled' };
    }
    if (wh.status === 'disabled') {
      await c.deliveries.updateOne({ _id: req.deliveryId }, { $set: { status: 'paused', next_attempt_at: null, updated_at: new Date() } });
      return { outcome: 'held' };
    }
    if (wh.rate_limit_per_s) {
      const wait = limiter.take(wh._id, wh.rate_limit_per_s);
      if (wait > 0) return { outcome: 'throttled', delayMs: wait };
    }

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
    const result = await sender.send(wh.url, headers, event.body, wh.timeout_ms);
    const ok = result.error === null;

    const recordAttempt = async () => {
      try {
        await c.attempts.insertOne({
          _id: newId('att'),
          org_id: wh.org_id,
          delivery_id: req.deliveryId,
          webhook_id: wh._id,
          attempt: req.attempt,
          status_code: result.statusCode,
          duration_ms: result.durationMs,
          error: result.error,
          response_body: result.responseBody,
          created_at: now,
        });
      } catch (err) {
        // A retried activity (worker died after the insert) records its attempt once.
        if (!isDuplicateKey(err)) throw err;
      }
    };

    const gone = result.statusCode === 410;
    const retryAfterMs = result.statusCode === 429 || result.statusCode === 503 ? parseRetryAfter(result.retryAfter) : null;
    const delay = ok || gone ? null : nextDelay(req.scheduleMs, req.attemptInRun, { retryAfterMs, elapsedSinceFirstMs: req.elapsedSinceFirstMs });
    const outcome: DeliverResult = ok
      ? { outcome: 'delivered' }
      : delay === null
        ? { outcome: 'failed' }
        : { outcome: 'retry', delayMs: delay };

    const end = new Date();
    // The attempt and the delivery state are independent documents: write both at once.
    const recordState = c.deliveries.updateOne(
      { _id: req.deliveryId },
      {
        $set: {
          status: outcome.outcome === 'retry' ? 'pending' : (outcome.outcome as 'delivered' | 'failed'),
          attempt: req.attempt,
          status_code: result.statusCode,
          last_error: result.error,
          last_duration_ms: result.durationMs,
          next_attempt_at: outcome.outcome === 'retry' ? new Date(end.getTime() + outcome.delayMs) : null,
          delivered_at: ok ? end : null,
          ended_at: outcome.outcome === 'retry' ? null : end,
          updated_at: end,
        },
      },
    );
    await Promise.all([recordAttempt(), recordState]);

    if (ok) {
      if (failing) await c.webhookFailing.deleteOne({ _id: wh._id });
    } else if (gone) {
      await deps.disableWebhook(wh, 'gone');
    } else {
      await trackFailing(wh, failing?.since ?? null, end);
    }
    log.debug({ delivery: req.deliveryId, attempt: req.attempt, status: result.statusCode, error: result.error, ms: result.durationMs }, 'attempt');
    return outcome;
  };

  /** Failing without a success for longer than the auto-disable limit disables the webhook. */
  async function trackFailing(wh: WebhookDoc, since: Date | null, at: Date) {
    if (!since) {
      try {
        await store.c.webhookFailing.insertOne({ _id: wh._id, org_id: wh.org_id, since: at });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      return;
    }
    if (at.getTime() - since.getTime() >= deps.config.autoDisableAfterMs) await deps.disableWebhook(wh, 'failing');
  }
}
