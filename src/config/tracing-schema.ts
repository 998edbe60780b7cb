/**
 * The `tracing:` section of `longshore.yaml` (part of the one schema in schema.ts): OpenTelemetry traces exported over
 * OTLP/HTTP, off by default. See docs/tracing.md.
 */
import { Type } from '@sinclair/typebox';

export const TracingSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: 'Trace requests with OpenTelemetry and export the spans over OTLP/HTTP. Off: the SDK is not even loaded.',
    }),
    endpoint: Type.String({
      minLength: 1,
      default: 'http://localhost:4318/v1/traces',
      description: 'The OTLP/HTTP traces URL of the collector (spans are sent as JSON), e.g. http://collector:4318/v1/traces.',
    }),
    sampling_ratio: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 1,
      description:
        "Share of new traces recorded (0 to 1). Parent-based: a request that continues a trace (traceparent) follows the caller's sampled flag.",
    }),
    service_name: Type.Optional(
      Type.String({ minLength: 1, description: 'The `service.name` of the spans; default the config\'s service_title.' }),
    ),
    headers: Type.Record(Type.String({ minLength: 1 }), Type.String(), {
      default: {},
      description: 'HTTP headers sent with every export (e.g. an API key of a hosted collector).',
    }),
    export_interval_ms: Type.Integer({ minimum: 1, default: 5000, description: 'Longest time a finished span waits before it is exported.' }),
    export_timeout_ms: Type.Integer({ minimum: 1, default: 10_000, description: 'How long one export may take before it is abandoned.' }),
    max_export_batch_size: Type.Integer({ minimum: 1, default: 512, description: 'Most spans sent in one export.' }),
    max_queue_size: Type.Integer({
      minimum: 1,
      default: 2048,
      description: 'Most finished spans kept waiting for export; beyond it new spans are dropped (the collector is down or slow).',
    }),
  },
  { additionalProperties: false, default: {} },
);
