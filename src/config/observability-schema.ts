/**
 * The observability sections of `longshore.yaml` (part of the one schema in schema.ts): `logging:`, `metrics:` and
 * the prediction log's `monitoring:`, which a model entry may also override key by key.
 */
import { Type } from '@sinclair/typebox';

export const MONITORING_INCLUDE = ['both', 'inputs', 'outputs'] as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const LoggingSchema = Type.Object(
  {
    level: Type.Union(
      LOG_LEVELS.map((level) => Type.Literal(level)),
      { default: 'info', description: 'Lowest level written to the log.' },
    ),
    format: Type.Union([Type.Literal('json'), Type.Literal('pretty')], {
      default: 'json',
      description: 'json: one JSON object per line (pino), for log shippers. pretty: colored, human-readable lines for a terminal.',
    }),
    destination: Type.String({
      minLength: 1,
      default: 'stdout',
      description: '`stdout`, `stderr`, or a file path (relative to the config file) the log is appended to.',
    }),
    redact: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Paths of log fields whose values are replaced by [Redacted] (pino redact syntax), e.g. req.headers.authorization. ' +
        'Authorization and cookie headers are always redacted.',
    }),
    access_log: Type.Boolean({
      default: false,
      description:
        'One line per request (request id, method, route, model, status, duration); 5xx answers also carry the full error. ' +
        'Off by default: it measured 15–20% of the throughput of a small model at 64 connections, and /metrics already counts and times every route.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const MetricsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Serve GET /metrics (Prometheus text format) and keep the metrics.' }),
    model_labels: Type.Boolean({
      default: true,
      description: 'Label model metrics with `model` and `version`. Turn off for deployments with many models: the series are then summed over all models.',
    }),
    process_metrics: Type.Boolean({ default: true, description: 'Node process metrics (prom-client defaults: event loop lag, heap, GC, CPU).' }),
    should_group_status_codes: Type.Boolean({ default: true, description: 'HTTP metrics: status label `2xx`, `4xx`, ... instead of the exact code.' }),
    should_ignore_untemplated: Type.Boolean({ default: false, description: 'HTTP metrics: leave out requests that match no route.' }),
    should_group_untemplated: Type.Boolean({
      default: true,
      description: 'HTTP metrics: count requests that match no route under handler `none` (when false, they are left out too: a raw URL is never a label).',
    }),
    should_round_latency_decimals: Type.Boolean({ default: false, description: 'HTTP metrics: round durations to round_latency_decimals.' }),
    round_latency_decimals: Type.Integer({ minimum: 0, maximum: 9, default: 4, description: 'Decimals kept when should_round_latency_decimals is true.' }),
    should_respect_env_var: Type.Boolean({ default: false, description: 'Keep metrics only when the environment variable env_var_name is `true`.' }),
    env_var_name: Type.String({ minLength: 1, default: 'ENABLE_METRICS', description: 'The variable should_respect_env_var reads.' }),
    should_instrument_requests_inprogress: Type.Boolean({ default: false, description: 'HTTP metrics: a gauge of requests in progress.' }),
    inprogress_name: Type.String({ minLength: 1, default: 'http_requests_inprogress', description: 'Name of the in-progress gauge.' }),
    inprogress_labels: Type.Boolean({ default: false, description: 'Label the in-progress gauge with handler and method.' }),
    excluded_handlers: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Regular expressions of route templates to leave out of the HTTP metrics, e.g. ^/api/health.',
    }),
  },
  { additionalProperties: false, default: {} },
);

/** The prediction log's settings; every key optional, so a model entry can override only some of the server-wide ones. */
export function monitoringKeys() {
  return {
    enabled: Type.Optional(Type.Boolean({ description: 'Write the prediction log. Default false.' })),
    sample_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of predictions logged, at random. Default 1.' })),
    sample_every: Type.Optional(Type.Integer({ minimum: 1, description: 'Log every Nth prediction instead of sampling at random.' })),
    batch_size: Type.Optional(Type.Integer({ minimum: 1, description: 'Records written together. Default 100.' })),
    flush_interval_ms: Type.Optional(Type.Integer({ minimum: 1, description: 'Longest a record waits before it is written. Default 1000.' })),
    max_buffer: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Records held while the destination is slow or down; beyond it records are dropped and counted. Default 10000.' }),
    ),
    include: Type.Optional(
      Type.Union(
        MONITORING_INCLUDE.map((value) => Type.Literal(value)),
        { description: 'What each record carries besides its metadata: inputs, outputs, or both (default).' },
      ),
    ),
    destination: Type.Optional(
      Type.Object(
        {
          type: Type.Union([Type.Literal('file'), Type.Literal('stdout'), Type.Literal('http')], { description: 'Where records go.' }),
          path: Type.Optional(Type.String({ minLength: 1, description: 'file: the JSONL file (relative to the config file).' })),
          max_bytes: Type.Optional(Type.Integer({ minimum: 1, description: 'file: rotate when the file would grow beyond this. Default 100 MiB.' })),
          max_files: Type.Optional(Type.Integer({ minimum: 1, description: 'file: rotated files kept (file.1 ... file.N). Default 5.' })),
          url: Type.Optional(Type.String({ minLength: 1, description: 'http: the endpoint that receives each batch as a JSON array (POST).' })),
          headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'http: headers sent with each POST.' })),
          timeout_ms: Type.Optional(Type.Integer({ minimum: 1, description: 'http: longest a POST may take. Default 5000.' })),
        },
        { additionalProperties: false, description: 'Where the records go. Default {type: stdout}.' },
      ),
    ),
  };
}

export const MonitoringSchema = Type.Object(monitoringKeys(), {
  additionalProperties: false,
  default: {},
  description: 'The prediction log for model monitoring, server-wide; a model entry may override any key.',
});

export type LogLevel = (typeof LOG_LEVELS)[number];
