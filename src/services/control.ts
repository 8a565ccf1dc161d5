import { newId } from '../domain/ids.js';
import { scheduleToMs } from '../domain/schedule.js';
import type { Store } from '../storage/mongo.js';
import type { DeliveryDoc, DisabledReason, RecoveryDoc, WebhookDoc } from '../storage/types.js';
import { eachLimit, redeliver, signalDelivery, temporalCall, type Temporal } from '../temporal.js';
import type { Logger } from '../log.js';
import type { Publisher } from './publish.js';
import { markWebhooksChanged } from './webhook-index.js';

export type Control = ReturnType<typeof createControl>;

/**
 * What changes a webhook's running deliveries: pause, resume, delete, recover, retry. MongoDB is updated first
 * (it is what the API reads and what the activity checks before every send); the signals then wake or stop
 * the workflows. A lost signal is harmless: the activity refuses to send for a disabled or deleted webhook,
 * and a held delivery re-checks on its own.
 */
export function createControl(deps: { store: Store; temporal: Temporal; log: Logger; publisher: Publisher }) {
  const { store, temporal, log } = deps;
  const { c } = store;

  async function signalAll(deliveries: Pick<DeliveryDoc, 'webhook_id' | 'event_id'>[], signal: 'pause' | 'resume' | 'cancel') {
    await eachLimit(deliveries, 16, async (d) => {
      try {
        await signalDelivery(temporal, d.webhook_id, d.event_id, signal);
      } catch (err) {
        log.warn({ err, webhook: d.webhook_id, event: d.event_id, signal }, 'signal failed; the delivery will notice on its own');
      }
    });
  }

  async function pause(wh: WebhookDoc, reason: Exclude<DisabledReason, null>): Promise<void> {
    await c.webhooks.updateOne({ _id: wh._id }, { $set: { status: 'disabled', disabled_reason: reason, updated_at: new Date() } });
    await holdDeliveries(wh);
  }

  /** After the webhook is marked disabled: its pending deliveries hold, and caches stop matching it. */
  async function holdDeliveries(wh: WebhookDoc): Promise<void> {
    const running = await c.deliveries.find({ webhook_id: wh._id, status: 'pending' }, { projection: { webhook_id: 1, event_id: 1 } }).toArray();
    await c.deliveries.updateMany({ webhook_id: wh._id, status: 'pending' }, { $set: { status: 'paused', next_attempt_at: null, updated_at: new Date() } });
    await signalAll(running, 'pause');
    await markWebhooksChanged(store, wh.org_id);
  }

  async function resume(wh: WebhookDoc): Promise<void> {
    // The failing clock restarts first: an attempt that sees `active` must not see the old failing-since too.
    await c.webhookFailing.deleteOne({ _id: wh._id });
    await c.webhooks.updateOne({ _id: wh._id }, { $set: { status: 'active', disabled_reason: null, updated_at: new Date() } });
    // Pending ones too: a pause signal may have reached a workflow whose attempt then wrote `pending` over `paused`.
    const held = await c.deliveries.find({ webhook_id: wh._id, status: { $in: ['paused', 'pending'] } }, { projection: { webhook_id: 1, event_id: 1 } }).toArray();
    await c.deliveries.updateMany({ webhook_id: wh._id, status: 'paused' }, { $set: { status: 'pending', updated_at: new Date() } });
    await signalAll(held, 'resume');
    await markWebhooksChanged(store, wh.org_id);
  }

  /**
   * Disabled by the system (410 Gone, failing for days): also tell the organization's operational webhooks.
   * One write to the webhook (the conditional one): every write from an attempt is a window in which FerretDB's
   * read-modify-write could undo a concurrent edit.
   */
  async function disableAutomatically(wh: WebhookDoc, reason: 'gone' | 'failing'): Promise<void> {
    const res = await c.webhooks.updateOne({ _id: wh._id, status: 'active' }, { $set: { status: 'disabled', disabled_reason: reason, updated_at: new Date() } });
    if (res.modifiedCount === 0) return;
    await holdDeliveries(wh);
    log.warn({ webhook: wh._id, reason }, 'webhook disabled automatically');
    await deps.publisher.publish(wh.org_id, {
      type: 'webhook.disabled',
      data: { webhook_id: wh._id, uid: wh.uid, url: wh.url, reason, disabled_at: new Date().toISOString() },
    });
  }

  async function remove(wh: WebhookDoc): Promise<void> {
    await c.webhooks.deleteOne({ _id: wh._id });
    await markWebhooksChanged(store, wh.org_id);
    await c.webhookFailing.deleteOne({ _id: wh._id });
    const running = await c.deliveries.find({ webhook_id: wh._id, status: { $in: ['pending', 'paused'] } }, { projection: { webhook_id: 1, event_id: 1 } }).toArray();
    await c.deliveries.updateMany(
      { webhook_id: wh._id, status: { $in: ['pending', 'paused'] } },
      { $set: { status: 'cancelled', next_attempt_at: null, ended_at: new Date(), updated_at: new Date() } },
    );
    await signalAll(running, 'cancel');
  }

  /** Re-delivers one delivery now, continuing its attempt count with the webhook's current schedule. */
  async function retry(wh: WebhookDoc, d: DeliveryDoc, opts: { fullSchedule: boolean }): Promise<void> {
    await c.deliveries.updateOne({ _id: d._id }, { $set: { status: 'pending', ended_at: null, next_attempt_at: new Date(), updated_at: new Date() } });
    await redeliver(temporal, {
      orgId: d.org_id,
      webhookId: d.webhook_id,
      eventId: d.event_id,
      deliveryId: d._id,
      eventType: d.event_type,
      scheduleMs: opts.fullSchedule ? scheduleToMs(wh.retry_schedule) : [],
      attemptsBefore: d.attempt,
    }, wh.url);
  }

  async function startRecovery(wh: WebhookDoc, since: Date, until: Date | null): Promise<RecoveryDoc> {
    const rec: RecoveryDoc = {
      _id: newId('rcv'), org_id: wh.org_id, webhook_id: wh._id, since, until, status: 'running', recovered: 0,
      created_at: new Date(), completed_at: null,
    };
    await c.recoveries.insertOne(rec);
    try {
      await temporalCall(temporal, () =>
        temporal.client.workflow.start('recoveryWorkflow', {
          taskQueue: temporal.taskQueue,
          workflowId: `recovery/${rec._id}`,
          args: [{ recoveryId: rec._id }],
        }),
      );
    } catch (err) {
      // The API answers 503 "no effect": leave no task behind that would read `running` forever.
      await c.recoveries.deleteOne({ _id: rec._id });
      throw err;
    }
    return rec;
  }

  /** The body of a recover task: every failed delivery of the webhook created in [since, until). */
  async function runRecovery(recoveryId: string, heartbeat: () => void): Promise<number> {
    const rec = await c.recoveries.findOne({ _id: recoveryId });
    if (!rec) return 0;
    if (rec.status === 'completed') return rec.recovered;
    const wh = await c.webhooks.findOne({ _id: rec.webhook_id });
    let recovered = rec.recovered;
    if (wh) {
      const range: Record<string, Date> = { $gte: rec.since };
      if (rec.until) range.$lt = rec.until;
      const failed = await c.deliveries.find({ webhook_id: wh._id, status: 'failed', created_at: range }).sort({ created_at: 1 }).toArray();
      for (const d of failed) {
        await retry(wh, d, { fullSchedule: true });
        recovered++;
        if (recovered % 20 === 0) {
          heartbeat();
          await c.recoveries.updateOne({ _id: rec._id }, { $set: { recovered } });
        }
      }
    }
    await c.recoveries.updateOne({ _id: rec._id }, { $set: { status: 'completed', recovered, completed_at: new Date() } });
    return recovered;
  }

  return { pause, resume, remove, retry, startRecovery, runRecovery, disableAutomatically };
}
