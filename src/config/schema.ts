/**
 * The one schema of `longshore.yaml`: it validates the file, fills defaults, documents every key and gives the TS type.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Names usable in URLs and as OpenAPI component names. */
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';

export const GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

/** Keys that only ONNX models take. */
export const ONNX_ONLY_KEYS = ['intra_op_threads', 'inter_op_threads', 'graph_optimization_level', 'execution_providers', 'outputs', 'batching'] as const;

export const BATCHING_POLICIES = ['eager', 'off'] as const;

export const BatchingSchema = Type.Object(
  {
    policy: Type.Union(
      BATCHING_POLICIES.map((policy) => Type.Literal(policy)),
      {
        default: 'eager',
        description:
          '`eager`: calls that arrive together are coalesced into one model run, with no waiting (what is queued when ' +
          'the model is idle runs at once). `off`: one run per call.',
      },
    ),
    max_batch_size: Type.Integer({
      minimum: 1,
      default: 64,
      description: 'Most rows (records) in one run, counting every record of a /predictions call. A larger call runs alone.',
    }),
    max_queue_size: Type.Integer({
      minimum: 1,
      default: 4096,
      description:
        'Most rows waiting for a run. A call that would go beyond is refused at once with 503 QueueFullError and ' +
        'Retry-After, so overload never grows memory without bound.',
    }),
  },
  {
    additionalProperties: false,
    description:
      'ONNX: how concurrent calls share runs. Default {policy: eager, max_batch_size: 64, max_queue_size: 4096}. Models with a dynamic inner ' +
      'dimension are never coalesced, since their records may not stack.',
  },
);

export const ModelEntrySchema = Type.Object(
  {
    runtime: Type.Optional(
      Type.Union([Type.Literal('module'), Type.Literal('onnx')], {
        description: 'What serves the model: `module` (a TS/JS class, needs class_path) or `onnx` (needs model_path). Inferred when absent.',
      }),
    ),
    class_path: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Where the model class lives: `./models/iris.ts#IrisModel` (relative to this file), `some-package#Export`, ' +
          'or a path without `#` for its default export.',
      }),
    ),
    model_path: Type.Optional(
      Type.String({ minLength: 1, description: 'An ONNX file to serve with no code, relative to this file (`runtime: onnx`).' }),
    ),
    create_endpoint: Type.Boolean({
      default: true,
      description: 'Create the prediction routes. When false the model is loaded and listed but not callable over HTTP.',
    }),
    required: Type.Boolean({
      default: true,
      description: 'Readiness waits for this model. A model that is not required may fail without making the service unready.',
    }),
    configuration: Type.Record(Type.String(), Type.Unknown(), {
      default: {},
      description: "Passed as-is to the model's constructor (module runtime).",
    }),
    qualified_name: Type.Optional(
      Type.String({
        pattern: MODEL_NAME_PATTERN,
        description: "The name in URLs. Overrides the class's qualified_name; for ONNX models defaults to the file name without `.onnx`.",
      }),
    ),
    display_name: Type.Optional(Type.String({ description: "Overrides the class's display_name." })),
    description: Type.Optional(Type.String({ description: "Overrides the class's description." })),
    version: Type.Optional(Type.String({ minLength: 1, description: 'Overrides the class\'s version; ONNX models default to "1".' })),
    intra_op_threads: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'ONNX: threads inside one operator. Default 1: on a small machine one thread is faster and steadier per request; 0 lets onnxruntime pick.',
      }),
    ),
    inter_op_threads: Type.Optional(Type.Integer({ minimum: 0, description: 'ONNX: threads across independent operators (0: onnxruntime picks).' })),
    graph_optimization_level: Type.Optional(
      Type.Union(
        GRAPH_OPTIMIZATION_LEVELS.map((level) => Type.Literal(level)),
        { description: "ONNX: graph optimizations applied when the session is created (onnxruntime's default: all)." },
      ),
    ),
    execution_providers: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'ONNX: execution providers in order of preference. Default ["cpu"].' }),
    ),
    batching: Type.Optional(BatchingSchema),
    outputs: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true, description: 'ONNX: graph outputs to return, in order. Default: every tensor output.' }),
    ),
  },
  { additionalProperties: false },
);

export const ServerSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address to bind; use 0.0.0.0 in a container.' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8000, description: 'TCP port; 0 picks a free one.' }),
    drain_delay_ms: Type.Integer({
      minimum: 0,
      default: 0,
      description:
        'On SIGTERM, readiness answers 503 at once but requests are still served for this long before the listener ' +
        'closes, so load balancers notice first. Set it to about your readiness probe period (e.g. 5000 on Kubernetes).',
    }),
    body_limit_bytes: Type.Integer({
      minimum: 1,
      default: 10 * 1024 * 1024,
      description: 'Largest request body accepted; larger ones get 413 PayloadTooLargeError.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const LoggingSchema = Type.Object(
  {
    level: Type.Union(
      LOG_LEVELS.map((level) => Type.Literal(level)),
      { default: 'info', description: 'Lowest level written to the log.' },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const HealthSchema = Type.Object(
  {
    ready_without_models: Type.Boolean({
      default: false,
      description: 'Report ready when no model is configured. Off by default: a server with nothing to serve is not ready.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    service_title: Type.String({ default: 'longshore', description: 'Title of the OpenAPI document and the docs page.' }),
    description: Type.String({ default: '', description: 'Description in the OpenAPI document.' }),
    version: Type.String({ default: '0.1.0', description: 'Version of the service (not of a model).' }),
    server: ServerSchema,
    logging: LoggingSchema,
    health: HealthSchema,
    models: Type.Array(ModelEntrySchema, { default: [], description: 'The models to serve, in order.' }),
  },
  { additionalProperties: false },
);

/** A validated configuration with every default filled in. */
export type LongshoreConfig = Static<typeof ConfigSchema>;
export type ModelEntry = Static<typeof ModelEntrySchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];
