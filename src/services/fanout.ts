import { newId, type EventId, type WebhookId } from '../domain/ids.js';
import { INLINE_BODY_MAX } from '../domain/limits.js';
import { scheduleToMs } from '../domain/schedule.js';
import type { Logger } from '../log.js';
import type { Store } from '../storage/mongo.js';
import { unfinishedFanouts } from '../storage/repos/events.js';
import { tenant } from '../storage/tenant.js';
import type { DeliveryDoc, EventDoc, WebhookDoc } from '../storage/types.js';
import { deliveryWorkflowId, eachLimit, startDelivery, type Temporal } from '../temporal.js';

export type Fanout = ReturnType<typeof createFanout>;

/**
 * The second half of a publish: one delivery record and one workflow per webhook an event matched. The event
 * document (with `matched`) and its outbox entry make this restartable: if the process dies half-way, the sweep
 * finishes it, and idempotent workflow ids make a second start a no-op.
 */
export function createFanout(deps: { store: Store; temporal: Temporal; log: Logger }) {
  const { store, temporal, log } = deps;

  /** Starts a held delivery whose webhook is active again (as control.release does for a resume's task). */
  async function release(wh: WebhookDoc, d: DeliveryDoc): Promise<void> {
    const current = await tenant(store, wh.org_id).deliveries.get(d._id);
    if (!current?.held || current.status !== 'paused') return;
    await tenant(store, wh.org_id).deliveries.markReleased(d._id, null);
    await startDelivery(temporal, {
      orgId: d.org_id, webhookId: d.webhook_id, eventId: d.event_id, deliveryId: d._id, eventType: d.event_type,
      scheduleMs: scheduleToMs(wh.retry_schedule), attemptsBefore: 0,
    }, wh.url);
  }

  /**
   * Creates the delivery records and starts the workflows for an event's matched webhooks. Idempotent.
   * `known` are the webhooks just matched by the publish: a fresh event needs neither re-reading them nor
   * looking for deliveries that cannot exist yet.
   */
  async function fanout(event: EventDoc, known?: WebhookDoc[]): Promise<void> {
    if (event.matched.length === 0) return;
    const t = tenant(store, event.org_id);
    const webhooks = known ?? (await t.webhooks.byIds(event.matched));
    const now = new Date();
    const existing = known ? [] : await t.deliveries.ofEvent(event._id);
    const byWebhook = new Map<WebhookId, DeliveryDoc>(existing.map((d) => [d.webhook_id, d]));
    const fresh: DeliveryDoc[] = [];
    const heldNow: { wh: WebhookDoc; d: DeliveryDoc }[] = [];
    for (const wh of webhooks) {
      if (byWebhook.has(wh._id)) continue;
      // Nothing matched is dropped: a webhook paused by its owner holds the delivery (released in order on resume);
      // one disabled automatically records it as skipped (a recovery of the period re-delivers it).
      const status = wh.status === 'active' ? 'pending' : wh.disabled_reason === 'user' ? 'paused' : 'skipped';
      const d: DeliveryDoc = {
        _id: newId('dlv'), org_id: event.org_id, application_id: event.application_id ?? null, webhook_id: wh._id, event_id: event._id,
        event_type: event.type, status, held: status !== 'pending', attempt: 0, status_code: null, last_error: null, last_duration_ms: null,
        next_attempt_at: status === 'pending' ? now : null, delivered_at: null, ended_at: status === 'skipped' ? now : null,
        created_at: now, updated_at: now, workflow_id: deliveryWorkflowId(wh._id, event._id),
      };
      fresh.push(d);
      byWebhook.set(wh._id, d);
      if (status === 'paused') heldNow.push({ wh, d });
    }
    if (fresh.length > 0 && (await t.deliveries.insertMany(fresh)) === 'raced') {
      // A racing fan-out inserted some: use whichever record won.
      for (const d of await t.deliveries.ofEvent(event._id)) byWebhook.set(d.webhook_id, d);
    }
    const body = event.body.length <= INLINE_BODY_MAX ? event.body : undefined;
    await eachLimit(webhooks, 16, async (wh) => {
      const d = byWebhook.get(wh._id)!;
      if (d.held) return;
      await startDelivery(temporal, {
        orgId: event.org_id, webhookId: wh._id, eventId: event._id, deliveryId: d._id, eventType: event.type,
        scheduleMs: scheduleToMs(wh.retry_schedule), attemptsBefore: 0, body,
      }, wh.url);
    });
    // A resume that landed between matching and storing the held records would not have seen them: look again.
    for (const { wh, d } of heldNow) {
      const current = await t.webhooks.get(wh._id);
      const stored = byWebhook.get(wh._id)!;
      if (current?.status === 'active' && stored._id === d._id) await release(current, d);
    }
    // The fan-out is done; removing its entry is cleanup the answer need not wait for (the sweep removes leftovers).
    t.events.outbox.doneSoon(event._id).catch((err) => log.warn({ err, event: event._id }, 'outbox cleanup deferred to the sweep'));
  }

  /**
   * Finishes fan-outs that a crash left half-done. Runs in the API process on an interval; it reads only the
   * outbox, which holds just the fan-outs in progress.
   */
  async function sweep(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const entries = (await unfinishedFanouts(store)).filter((o) => o.created_at.getTime() < cutoff);
    let finished = 0;
    for (const entry of entries) {
      try {
        const t = tenant(store, entry.org_id);
        const event = await t.events.get(entry._id as EventId);
        if (event) {
          await fanout(event);
          finished++;
        } else if (Date.now() - entry.created_at.getTime() > 60_000) {
          // The process died between the outbox entry and the event: that event was never acknowledged.
          await t.events.outbox.done(entry._id);
        }
      } catch (err) {
        log.warn({ err, event: entry._id }, 'fan-out sweep failed; will retry');
        break;
      }
    }
    if (finished) log.info({ count: finished }, 'fan-out sweep finished stuck events');
    return finished;
  }

  return { fanout, sweep };
}
