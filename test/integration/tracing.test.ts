import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, newOrg, stack } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
// @ts-expect-error plain JS module shared with npm start
import { startApi, startWorker } from '../../scripts/stack.js';

type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; service: string };

/** An in-process OTLP/HTTP collector: keeps every span it is sent (JSON encoding). */
async function startCollector() {
  const spans: Span[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Omit<Span, 'service'>[] }[] }[] };
        for (const rs of body.resourceSpans ?? []) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans, close: () => server.close() };
}

// Traces (issue 13): with OTEL_EXPORTER_OTLP_ENDPOINT set, one trace runs from the publish request through the
// workflow start and the attempt to the receiver, which gets a `traceparent` header of that trace.
describe('tracing', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let rcv: Receiver;
  let api: { url: string; stop(): Promise<void> };
  let worker: { stop(): Promise<void> };
  beforeAll(async () => {
    collector = await startCollector();
    rcv = await startReceiver();
    const logDir = join(stack().logDir, 'tracing');
    const env = { ...stack().env, TEMPORAL_TASK_QUEUE: 'tracing', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, WORKER_METRICS_PORT: '-1' };
    api = await startApi({ env, logDir, name: 'api-tracing' });
    worker = await startWorker({ env, logDir, name: 'worker-tracing' });
  }, 120_000);
  afterAll(async () => {
    for (const p of [worker, api]) await p?.stop().catch(() => {});
    await rcv?.close();
    collector?.close();
  });

  it('one trace from POST /v1/events to the receiver', async () => {
    const { admin: a } = await newOrg('tracing');
    const admin = client(a.key, api.url);
    await admin.post('/v1/event-types', { name: 'traced.thing' });
    await admin.post('/v1/webhooks', { url: rcv.url, events: ['traced.thing'] });
    const res = await admin.post('/v1/events', { type: 'traced.thing', data: {} });
    expect(res.status).toBe(202);
    await rcv.waitFor(1);
    const traceparent = String(rcv.received[0].headers.traceparent ?? '');
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const traceId = traceparent.split('-')[1];
    const trace = await eventually(async () => {
      const mine = collector.spans.filter((s) => s.traceId === traceId);
      const names = mine.map((s) => s.name);
      return names.includes('POST /v1/events') && names.includes('hookrelay.attempt') && names.includes('POST') && names.some((n) => n.startsWith('StartWorkflow:')) && mine;
    }, 20_000);
    const byName = (n: string) => trace.find((s) => s.name === n)!;
    const request = byName('POST /v1/events');
    expect(request.service).toBe('hookrelay-api');
    expect(byName('hookrelay.attempt').service).toBe('hookrelay-worker');
    // The attempt hangs under the publish request; the POST under the attempt; the receiver's parent is the POST.
    expect(byName('hookrelay.attempt').parentSpanId).toBe(request.spanId);
    expect(byName('POST').parentSpanId).toBe(byName('hookrelay.attempt').spanId);
    expect(traceparent.split('-')[2]).toBe(byName('POST').spanId);
    expect(trace.find((s) => s.name.startsWith('StartWorkflow:'))!.parentSpanId).toBe(request.spanId);
  }, 60_000);
});
