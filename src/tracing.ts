import { context, propagation, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';

/**
 * OpenTelemetry, only when OTEL_EXPORTER_OTLP_ENDPOINT is set: the SDK and exporter are imported then, and
 * otherwise nothing is loaded and every helper below is a no-op (the API's global tracer is a no-op tracer).
 * Spans go over OTLP/HTTP (JSON) to `<endpoint>/v1/traces`.
 */
export async function initTracing(defaultServiceName: string): Promise<{ enabled: boolean; shutdown(): Promise<void> }> {
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return { enabled: false, shutdown: async () => {} };
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { Resource }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new NodeTracerProvider({
    resource: new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME ?? defaultServiceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }), { scheduledDelayMillis: 500 })],
  });
  provider.register(); // global tracer provider, W3C trace-context propagator, AsyncLocalStorage context
  return { enabled: true, shutdown: () => provider.shutdown() };
}

/** Whether traces are exported (decided by the environment, as initTracing does). */
export const tracingEnabled = () => !!process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

const tracer = () => trace.getTracer('hookrelay');

/** The active trace context as a W3C `traceparent` (undefined when tracing is off or no span is active). */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Runs `fn` in a span (child of `traceparent` when given, else of the active context); records errors. */
export async function inSpan<T>(name: string, opts: { traceparent?: string; kind?: SpanKind; attributes?: Record<string, string | number> }, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = opts.traceparent ? propagation.extract(context.active(), { traceparent: opts.traceparent }) : context.active();
  return tracer().startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { SpanKind, SpanStatusCode };
