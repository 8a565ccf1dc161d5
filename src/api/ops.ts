import Router from '@koa/router';
import client from 'prom-client';
import { openApiDocument } from './openapi.js';
import { docsRoutes } from './docs.js';
import type { ApiDeps } from './deps.js';
import { commandCounts } from '../services/models.js';

export const metrics = {
  registry: new client.Registry(),
};
client.collectDefaultMetrics({ register: metrics.registry });
export const httpRequests = new client.Histogram({
  name: 'hookrelay_http_request_duration_seconds',
  help: 'API request duration by route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metrics.registry],
});

export const fanoutWidth = new client.Histogram({
  name: 'hookrelay_fanout_width',
  help: 'Webhooks an event matched when it was published (deliveries it got)',
  buckets: [0, 1, 2, 5, 10, 25, 50, 100, 250, 1000],
  registers: [metrics.registry],
});

/** A counter whose totals the process keeps itself: at each scrape, the values `read` gives, one per label value. */
function totalsCounter(name: string, help: string, label: string, read: () => [string, number][]) {
  new client.Counter({
    name,
    help,
    labelNames: [label],
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const [value, n] of read()) this.inc({ [label]: value }, n);
    },
  });
}

totalsCounter('hookrelay_mongodb_commands_total', 'MongoDB commands (round trips) this process sent, by command', 'command', () => [...commandCounts]);

let workflowStarts: () => { total: number; eager: number } = () => ({ total: 0, eager: 0 });
totalsCounter('hookrelay_workflow_starts_total', 'Delivery workflows this process started, by whether the server started them eagerly (the all-in-one process asks for it)', 'eager', () => {
  const s = workflowStarts();
  return [['true', s.eager], ['false', s.total - s.eager]];
});

type QueueState = { deliveries: number; waitingDeliveries: number; spilled: boolean; waitedTotal: number; leftInOutboxTotal: number };
let fanoutQueue: () => QueueState = () => ({ deliveries: 0, waitingDeliveries: 0, spilled: false, waitedTotal: 0, leftInOutboxTotal: 0 });
new client.Gauge({
  name: 'hookrelay_fanout_queue_deliveries',
  help: 'Workflow starts this process holds after answering their publishes: queued (whole) or waiting behind them (ids only)',
  labelNames: ['state'] as const,
  registers: [metrics.registry],
  collect() {
    const q = fanoutQueue();
    this.set({ state: 'queued' }, q.deliveries);
    this.set({ state: 'waiting' }, q.waitingDeliveries);
  },
});
new client.Gauge({
  name: 'hookrelay_fanout_backlog',
  help: '1 while fan-outs of this process wait in the outbox only (past both queue bounds); the sweep takes them as the queue empties',
  registers: [metrics.registry],
  collect() {
    this.set(fanoutQueue().spilled ? 1 : 0);
  },
});
totalsCounter('hookrelay_fanout_deferred_total', 'Published events whose starts did not fit the start queue: waiting behind it (ids in memory) or in the outbox only', 'where', () => {
  const q = fanoutQueue();
  return [['waiting', q.waitedTotal], ['outbox', q.leftInOutboxTotal]];
});

/** Readiness is cached for a moment so a burst of probes does not become a burst of pings. */
/** How long /readyz waits for each dependency's answer. */
const READY_DEADLINE_MS = 900;

function readiness(deps: ApiDeps) {
  let last: { at: number; result: { mongodb: boolean; temporal: boolean } } | null = null;
  return async () => {
    if (last && Date.now() - last.at < 500) return last.result;
    // Each check answers within READY_DEADLINE_MS: a store or Temporal that accepts the connection and never
    // answers is not ready, and a load balancer asking /readyz gets its 503 in time.
    const ok = (p: Promise<unknown>) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), READY_DEADLINE_MS);
        p.then(() => resolve(true), () => resolve(false)).finally(() => clearTimeout(timer));
      });
    const [mongodb, temporal] = await Promise.all([ok(deps.services.readiness.mongodb()), ok(deps.services.readiness.temporal())]);
    last = { at: Date.now(), result: { mongodb, temporal } };
    return last.result;
  };
}

export function opsRouter(deps: ApiDeps): Router {
  const router = new Router();
  const ready = readiness(deps);
  workflowStarts = deps.services.workflowStarts;
  fanoutQueue = deps.services.publisher.queueState;

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const checks = await ready();
    const up = checks.mongodb && checks.temporal;
    ctx.status = up ? 200 : 503;
    ctx.body = { status: up ? 'ready' : 'unavailable', checks };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = { ...openApiDocument() };
  });
  docsRoutes(router);
  return router;
}
