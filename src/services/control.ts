import { scheduleToMs } from '../domain/schedule.js';
import type { OrgId, RecoveryId } from '../domain/ids.js';
import type { Store } from '../storage/mongo.js';
import type { DeliveryRef } from '../storage/repos/deliveries.js';
import { tenant } from '../storage/tenant.js';
import type { DeliveryDoc, DisabledReason, WebhookDoc } from '../storage/types.js';
import { eachLimit, redeliver, signalDelivery, startDelivery, type Temporal } from '../temporal.js';
import type { Logger } from '../log.js';
import type { Publisher } from './publish.js';

export type Control = ReturnType<typeof createControl>;

/**
 * What changes a webhook's running deliveries: pause, resume, delete, retry, automatic disabling. MongoDB is
 * updated first (it is what the API reads and what the activity checks before every send); the signals then
 * wake or stop the workflows. A lost signal is harmless: the activity refuses to send for a disabled or deleted
 * webhook, and a held delivery re-checks on its own.
 */
export function createControl(deps: { store: Store; temporal: Temporal; log: Logger; publisher: Publisher }) {
  const { store, temporal, log } = deps;
  const scope = (orgId: OrgId) => tenant(store, orgId);

  async function signalAll(deliveries: DeliveryRef[], signal: 'pause' | 'resume' | 'cancel') {
    await eachLimit(deliveries, 16, async (d) => {
      try {
        await signalDelivery(temporal, d.webhook_id, d.event_id, signal);
      } catch (err) {
        log.warn({ err, webhook: d.webhook_id, event: d.event_id, signal }, 'signal failed; the delivery will notice on its own');
      }
    });
  }

  async function pause(wh: WebhookDoc, reason: Exclude<DisabledReason, null>): Promise<void> {
    await scope(wh.org_id).webhooks.set(wh._id, { status: 'disabled', disabled_reason: reason });
    await holdDeliveries(wh);
  }

  /** After the webhook is marked disabled: its pending deliveries hold, and caches stop matching it. */
  async function holdDeliveries(wh: WebhookDoc): Promise<void> {
    const t = scope(wh.org_id);
    const running = await t.deliveries.moveAll(wh._id, ['pending'], 'paused');
    await signalAll(running, 'pause');
    await t.webhooks.changed();
  }

  async function resume(wh: WebhookDoc): Promise<void> {
    const t = scope(wh.org_id);
    // The failing clock restarts first: an attempt that sees `active` must not see the old failing-since too.
    await t.webhooks.failing.clear(wh._id);
    await t.webhooks.set(wh._id, { status: 'active', disabled_reason: null });
    // Pending ones are signalled too: a pause signal may have reached a workflow whose attempt then wrote
    // `pending` over `paused`.
    const held = await t.deliveries.moveAll(wh._id, ['paused'], 'pending', ['paused', 'pending']);
    await signalAll(held, 'resume');
    await t.webhooks.changed();
  }

  /**
   * Disabled by the system (410 Gone, failing for days): also tell the organization's operational webhooks.
   * One conditional write to the webhook: every write from an attempt is a window in which FerretDB's
   * read-modify-write could undo a concurrent edit.
   */
  async function disableAutomatically(wh: WebhookDoc, reason: 'gone' | 'failing'): Promise<void> {
    if (!(await scope(wh.org_id).webhooks.disableIfActive(wh._id, reason))) return;
    await holdDeliveries(wh);
    log.warn({ webhook: wh._id, reason }, 'webhook disabled automatically');
    await deps.publisher.publishOperational(wh.org_id, 'webhook.disabled', {
      webhook_id: wh._id, application_id: wh.application_id ?? null, uid: wh.uid, url: wh.url, reason, disabled_at: new Date().toISOString(),
    });
  }

  /** Deletes the webhook: nothing more is sent to it, its open deliveries end cancelled. */
  async function remove(wh: WebhookDoc): Promise<void> {
    const t = scope(wh.org_id);
    await t.webhooks.remove(wh);
    const running = await t.deliveries.moveAll(wh._id, ['pending', 'paused'], 'cancelled');
    await signalAll(running, 'cancel');
  }

  /** Re-delivers one delivery now, continuing its attempt count with the webhook's current schedule. */
  async function retry(wh: WebhookDoc, d: DeliveryDoc, opts: { fullSchedule: boolean; by?: RecoveryId }): Promise<void> {
    await scope(wh.org_id).deliveries.markRetrying(d._id, opts.by ?? null, d.attempt);
    // Never attempted (its workflow not started yet, e.g. still in the start queue): the run it starts is its first.
    const counted = (attempt: number) => ({ scheduleMs: opts.fullSchedule || attempt === 0 ? scheduleToMs(wh.retry_schedule) : [], attemptsBefore: attempt });
    await redeliver(temporal, {
      orgId: d.org_id,
      webhookId: d.webhook_id,
      eventId: d.event_id,
      deliveryId: d._id,
      eventType: d.event_type,
      ...counted(d.attempt),
    }, wh, async () => counted(Math.max(d.attempt, (await scope(wh.org_id).deliveries.get(d._id))?.attempt ?? 0)));
  }

  /**
   * Starts a delivery that was held while its webhook was paused (no workflow ran for it yet). The record leaves
   * the held state first — once the workflow runs, only it writes the delivery (FerretDB's read-modify-write
   * updates could otherwise undo its outcome) — and the start is idempotent, so a release that died in between
   * starts it again without a second send.
   */
  async function release(wh: WebhookDoc, d: DeliveryDoc, releasedBy: RecoveryId | null): Promise<void> {
    await scope(wh.org_id).deliveries.markReleased(d._id, releasedBy);
    await startDelivery(temporal, {
      orgId: d.org_id, webhookId: d.webhook_id, eventId: d.event_id, deliveryId: d._id, eventType: d.event_type,
      scheduleMs: scheduleToMs(wh.retry_schedule), attemptsBefore: 0,
    }, wh);
  }

  /** An alert to the organization's operational webhooks (those that list its type). */
  const notify = (orgId: OrgId, type: 'webhook.failing' | 'webhook.recovered' | 'delivery.exhausted', data: Record<string, unknown>, id?: string) =>
    deps.publisher.publishOperational(orgId, type, data, id);

  return { pause, resume, remove, retry, release, disableAutomatically, notify };
}
