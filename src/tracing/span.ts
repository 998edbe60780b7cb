/**
 * longshore's view of tracing (docs/tracing.md): a span handle and the tracer that starts request spans, as plain
 * interfaces with no OpenTelemetry import, so every layer can carry a span (CallContext.span) and nothing is loaded
 * while tracing is off. The one implementation, over the OpenTelemetry SDK, is otel.ts, loaded by load.ts only when
 * `tracing.enabled` is true. With tracing off no span exists: every traced step is one `span !== undefined` check.
 */

/** An attribute value, as OpenTelemetry takes it. */
export type TraceAttributeValue = string | number | boolean;
export type TraceAttributes = Readonly<Record<string, TraceAttributeValue | undefined>>;

/** Extra settings of a child span. Times are `performance.now()` readings (the clock the batcher keeps). */
export interface ChildSpanOptions {
  /** When the step began, if before now (the queue wait is recorded once the batch starts). */
  readonly startedAt?: number;
  /** Spans this one is linked to (a batch links every request in it). */
  readonly links?: readonly TraceSpan[];
}

/** One span of a request's trace. A span that was not sampled records nothing; its children are itself. */
export interface TraceSpan {
  /** Sampled: attributes and children are recorded and exported. */
  readonly recording: boolean;
  /** 32 hex digits. */
  readonly traceId: string;
  /** 16 hex digits. */
  readonly spanId: string;
  /** An INTERNAL span under this one. */
  child(name: string, attributes?: TraceAttributes, options?: ChildSpanOptions): TraceSpan;
  setAttribute(key: string, value: TraceAttributeValue): void;
  /** Marks the span failed (status ERROR, `error.type`, the exception recorded as an event). */
  fail(error: unknown): void;
  /** Ends the span, now or at `endedAt` (a `performance.now()` reading). */
  end(endedAt?: number): void;
}

/** Reads a header (or gRPC metadata entry) of a carrier; names are lower case. */
export type CarrierGetter<C> = (carrier: C, name: string) => string | undefined;
/** Writes a header (or gRPC metadata entry) to a carrier. */
export type CarrierSetter<C> = (carrier: C, name: string, value: string) => void;

/** What starts a request's span: the same for every protocol adapter (REST here, gRPC later). */
export interface RequestSpanOptions<C> {
  /** Low-cardinality: `POST /api/models/{name}/prediction`, `inference.GRPCInferenceService/ModelInfer`. */
  readonly name: string;
  /** Where the caller's `traceparent` / `tracestate` are read from (headers, gRPC metadata); absent: a new trace. */
  readonly carrier?: C;
  readonly getter?: CarrierGetter<C>;
  readonly attributes?: TraceAttributes;
}

/** The tracer of a server with tracing on. */
export interface Tracing {
  /** A SERVER span continuing the caller's trace (W3C trace context), or starting one. */
  startRequestSpan<C>(options: RequestSpanOptions<C>): TraceSpan;
  /** Writes `traceparent` (and `tracestate` when there is one) of `span` to a carrier: a response, outgoing metadata. */
  inject<C>(span: TraceSpan, carrier: C, setter: CarrierSetter<C>): void;
  /** Exports what is still buffered and stops (server close). */
  shutdown(): Promise<void>;
}

/** Attribute names (OpenTelemetry semantic conventions where one exists, `longshore.*` otherwise). */
export const ATTR = {
  requestId: 'longshore.request.id',
  model: 'longshore.model.name',
  modelVersion: 'longshore.model.version',
  operation: 'longshore.model.operation',
  batchSize: 'longshore.batch.size',
  batchRequests: 'longshore.batch.requests',
  decorator: 'longshore.decorator',
  graphMember: 'longshore.graph.member',
} as const;

/** The `tracing:` section of the config as the tracer reads it (config/tracing-schema.ts validates and documents it). */
export interface TracingSettings {
  readonly enabled: boolean;
  readonly endpoint: string;
  readonly sampling_ratio: number;
  readonly service_name?: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly export_interval_ms: number;
  readonly export_timeout_ms: number;
  readonly max_export_batch_size: number;
  readonly max_queue_size: number;
}
