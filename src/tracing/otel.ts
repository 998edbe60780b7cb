/**
 * The tracer over the OpenTelemetry SDK: spans exported over OTLP/HTTP (JSON) by a batch processor, a parent-based
 * ratio sampler, and W3C trace context (`traceparent`, `tracestate`) read from and written to carriers. Every
 * OpenTelemetry package is imported here, dynamically, and this module is itself imported only by load.ts when
 * `tracing.enabled` is true: a server with tracing off loads none of them. Nothing is registered globally (no global
 * tracer provider, propagator or context manager): longshore's spans are parented explicitly through CallContext.
 */
import type { Context, Link, Span, SpanOptions, TextMapGetter, TextMapSetter, Tracer } from '@opentelemetry/api';
import type { CarrierGetter, CarrierSetter, ChildSpanOptions, RequestSpanOptions, TraceAttributes, TraceAttributeValue, TraceSpan, Tracing, TracingSettings } from './span.js';

type Api = typeof import('@opentelemetry/api');

/** performance.now() reading → epoch milliseconds (what OpenTelemetry takes as a number). */
const epochMs = (reading: number): number => performance.timeOrigin + reading;

/** Drops undefined values (OpenTelemetry would warn about them). */
function defined(attributes: TraceAttributes | undefined): Record<string, TraceAttributeValue> | undefined {
  if (attributes === undefined) return undefined;
  const out: Record<string, TraceAttributeValue> = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

class OtelSpan implements TraceSpan {
  readonly span: Span;
  readonly #owner: Owner;

  constructor(span: Span, owner: Owner) {
    this.span = span;
    this.#owner = owner;
  }

  get recording(): boolean {
    return this.span.isRecording();
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  get spanId(): string {
    return this.span.spanContext().spanId;
  }

  child(name: string, attributes?: TraceAttributes, options?: ChildSpanOptions): TraceSpan {
    // A span that was not sampled has no sampled children: itself stands for them (ending it is a no-op).
    if (!this.span.isRecording()) return this;
    const { api, tracer } = this.#owner;
    const spanOptions: SpanOptions = { kind: api.SpanKind.INTERNAL, attributes: defined(attributes) };
    if (options?.startedAt !== undefined) spanOptions.startTime = epochMs(options.startedAt);
    if (options?.links) spanOptions.links = options.links.map((linked): Link => ({ context: (linked as OtelSpan).span.spanContext() }));
    const parent = api.trace.setSpan(api.ROOT_CONTEXT, this.span);
    return new OtelSpan(tracer.startSpan(name, spanOptions, parent), this.#owner);
  }

  setAttribute(key: string, value: TraceAttributeValue): void {
    this.span.setAttribute(key, value);
  }

  fail(error: unknown): void {
    if (!this.span.isRecording()) return;
    const type = errorType(error);
    this.span.setAttribute('error.type', type);
    this.span.setStatus({ code: this.#owner.api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    if (error instanceof Error) this.span.recordException(error);
  }

  end(endedAt?: number): void {
    this.span.end(endedAt === undefined ? undefined : epochMs(endedAt));
  }
}

/** A catalogue error's `type` (ModelNotFoundError), else the class name. */
function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const type = (error as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    return error.constructor?.name ?? 'Error';
  }
  return typeof error;
}

interface Owner {
  readonly api: Api;
  readonly tracer: Tracer;
}

/** Builds the tracer; `serviceVersion` is the config's `version`. */
export async function createOtelTracing(settings: TracingSettings, serviceName: string, serviceVersion: string): Promise<Tracing> {
  const [api, core, base, resources, exporterModule] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const exporter = new exporterModule.OTLPTraceExporter({ url: settings.endpoint, headers: { ...settings.headers }, timeoutMillis: settings.export_timeout_ms });
  const processor = new base.BatchSpanProcessor(exporter, {
    scheduledDelayMillis: settings.export_interval_ms,
    maxExportBatchSize: settings.max_export_batch_size,
    maxQueueSize: settings.max_queue_size,
    exportTimeoutMillis: settings.export_timeout_ms,
  });
  const provider = new base.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': serviceName, 'service.version': serviceVersion }),
    sampler: new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(settings.sampling_ratio) }),
    spanProcessors: [processor],
  });
  const owner: Owner = { api, tracer: provider.getTracer('longshore', serviceVersion) };
  const propagator = new core.W3CTraceContextPropagator();

  return {
    startRequestSpan<C>({ name, carrier, getter, attributes }: RequestSpanOptions<C>): TraceSpan {
      let parent: Context = api.ROOT_CONTEXT;
      if (carrier !== undefined && getter !== undefined) parent = propagator.extract(api.ROOT_CONTEXT, carrier, textGetter(getter));
      const span = owner.tracer.startSpan(name, { kind: api.SpanKind.SERVER, attributes: defined(attributes) }, parent);
      return new OtelSpan(span, owner);
    },
    inject<C>(span: TraceSpan, carrier: C, setter: CarrierSetter<C>): void {
      const context = api.trace.setSpan(api.ROOT_CONTEXT, (span as OtelSpan).span);
      propagator.inject(context, carrier, { set: (c, key, value) => setter(c, key, value) } satisfies TextMapSetter<C>);
    },
    async shutdown(): Promise<void> {
      await provider.shutdown();
    },
  };
}

function textGetter<C>(getter: CarrierGetter<C>): TextMapGetter<C> {
  return { get: (carrier, key) => getter(carrier, key), keys: () => ['traceparent', 'tracestate'] };
}
