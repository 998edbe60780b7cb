/**
 * The one schema of `longshore.yaml`: it validates the file, fills defaults, documents every key and gives the TS type.
 */
import { Type, type Static } from '@sinclair/typebox';
import { LoggingSchema, MetricsSchema, monitoringKeys, MonitoringSchema } from './observability-schema.js';

export { LOG_LEVELS } from './observability-schema.js';

/** Names usable in URLs and as OpenAPI component names. */
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';

export const GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

/** Keys that only ONNX models take. */
export const ONNX_ONLY_KEYS = ['intra_op_threads', 'inter_op_threads', 'graph_optimization_level', 'execution_providers', 'outputs'] as const;

export const GRAPH_KINDS = ['ensemble', 'pipeline', 'router'] as const;
export const ENSEMBLE_COMBINE = ['mean', 'majority', 'mean_probability'] as const;

/** Built-in decorators, named in a decorator entry's class_path as `longshore:<name>` (docs/decorators.md). */
export const BUILTIN_DECORATORS = ['prediction_id', 'cache', 'transform', 'checks'] as const;

export const BATCHING_POLICIES = ['eager', 'timed', 'off'] as const;

export type BatchingPolicy = (typeof BATCHING_POLICIES)[number];

/** Built-in serving defaults, used where neither the model entry nor `defaults:` sets a key. */
export const BUILTIN_SERVING = {
  /** ONNX graphs stack rows natively, so coalescing is free; a code model's predictBatch may not be faster than predict. */
  policy: { onnx: 'eager', module: 'off' },
  max_batch_size: 64,
  max_latency_ms: 2,
  max_queue_size: 4096,
  /** One batch in flight when batching (it already uses the model fully); unlimited when calls run one by one. */
  max_concurrency: { batching: 1, off: 0 },
  timeout_ms: 60_000,
} as const;

/** The serving knobs of a model: how its calls are batched, limited and timed out. Shared by entries and `defaults`. */
function servingKeys(scope: 'entry' | 'defaults') {
  const inherit = scope === 'entry' ? ' Default: the value under `defaults`, else the built-in default.' : '';
  return {
    batching: Type.Optional(
      Type.Object(
        {
          policy: Type.Optional(
            Type.Union(
              BATCHING_POLICIES.map((policy) => Type.Literal(policy)),
              {
                description:
                  '`eager`: what is queued when the model is free runs at once as one batch, never waiting. `timed`: wait ' +
                  'up to max_latency_ms (from the oldest waiting request) for max_batch_size rows. `off`: one model call per ' +
                  'request. Built-in default: eager for ONNX models, off for code models.' +
                  inherit,
              },
            ),
          ),
          max_batch_size: Type.Optional(
            Type.Integer({
              minimum: 1,
              description: `Most rows in one batch, counting every row of every request (a /predictions call of 10 records is 10 rows). A larger request runs alone. Built-in default ${BUILTIN_SERVING.max_batch_size}.${inherit}`,
            }),
          ),
          max_latency_ms: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 60_000,
              description: `timed policy: longest the oldest waiting request waits for the batch to fill. Built-in default ${BUILTIN_SERVING.max_latency_ms}.${inherit}`,
            }),
          ),
        },
        { additionalProperties: false, description: 'How concurrent requests are gathered into one model call.' },
      ),
    ),
    max_concurrency: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Most batches (or calls) running at once; 0 means no limit. Built-in default: 1 when batching, no limit when ' +
          `batching is off.${inherit}`,
      }),
    ),
    max_queue_size: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: `Most rows waiting to run. A request that would go beyond is refused at once with 503 QueueFullError and Retry-After. Built-in default ${BUILTIN_SERVING.max_queue_size}.${inherit}`,
      }),
    ),
    timeout_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: `Longest a request may take in the model, time spent queued included; past it the caller gets 504 DeadlineExceededError. 0: no limit. Clients may ask for less (x-request-timeout-ms, V2 timeout). Built-in default ${BUILTIN_SERVING.timeout_ms}.${inherit}`,
      }),
    ),
  };
}

export const ServingDefaultsSchema = Type.Object(servingKeys('defaults'), {
  additionalProperties: false,
  default: {},
  description: 'Serving settings for every model that does not set its own.',
});

const DecoratorEntrySchema = Type.Object(
  {
    class_path: Type.String({
      minLength: 1,
      description: `A decorator class (\`./decorators/audit.ts#Audit\`, like a model's class_path), or a built-in: ${BUILTIN_DECORATORS.map((name) => `\`longshore:${name}\``).join(', ')}.`,
    }),
    configuration: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: "Passed to the decorator's constructor." }),
  },
  { additionalProperties: false },
);

const ExampleEntrySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'Shown in failures and as the OpenAPI example name.' })),
    input: Type.Unknown({ description: 'A request body for /prediction.' }),
    expected_output: Type.Optional(Type.Unknown({ description: 'The fields the answer must have (numbers within tolerance). Absent: the call only has to succeed.' })),
    tolerance: Type.Optional(Type.Number({ minimum: 0, description: 'Largest absolute difference allowed between numbers. Default 1e-6.' })),
  },
  { additionalProperties: false },
);

const GraphMemberSchema = Type.Union([
  Type.String({ minLength: 1, description: 'A model of this file, by qualified_name.' }),
  Type.Object(
    {
      model: Type.String({ minLength: 1, description: 'A model of this file, by qualified_name.' }),
      weight: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'ensemble: vote or mean weight; router: share of traffic. Default 1.' })),
      map: Type.Optional(
        Type.Record(Type.String(), Type.String(), {
          description: 'pipeline: renames fields of the previous output for this member (`{previous_field: this_field}`).',
        }),
      ),
      header_value: Type.Optional(Type.String({ description: 'router: requests whose routing header has this value go to this member.' })),
    },
    { additionalProperties: false },
  ),
]);

const GraphSchema = Type.Object(
  {
    kind: Type.Union(
      GRAPH_KINDS.map((kind) => Type.Literal(kind)),
      { description: '`ensemble`: members run in parallel, answers combined. `pipeline`: each output feeds the next member. `router`: one member per request.' },
    ),
    members: Type.Array(GraphMemberSchema, { minItems: 1, description: 'Models of this file (defined above a graph that names a graph), in order.' }),
    combine: Type.Optional(
      Type.Union(
        ENSEMBLE_COMBINE.map((value) => Type.Literal(value)),
        { description: 'ensemble: `mean` of numeric fields (regression), `majority` vote on the label, or `mean_probability` (soft vote). Default majority.' },
      ),
    ),
    label_field: Type.Optional(Type.String({ minLength: 1, description: 'ensemble: the output field holding the class. Default `label`.' })),
    probabilities_field: Type.Optional(
      Type.String({ minLength: 1, description: 'ensemble mean_probability: the output field holding class probabilities. Default `probabilities`.' }),
    ),
    labels: Type.Optional(
      Type.Array(Type.Union([Type.String(), Type.Integer()]), {
        minItems: 1,
        description: 'ensemble mean_probability: the class of each probability, in order. Default 0, 1, 2, ...',
      }),
    ),
    header: Type.Optional(
      Type.String({ minLength: 1, description: "router: a request header whose value picks the member (its header_value, or its model's name)." }),
    ),
  },
  { additionalProperties: false, description: 'Makes this entry a model graph over other models of this file (docs/graphs.md).' },
);

export const ModelEntrySchema = Type.Object(
  {
    runtime: Type.Optional(
      Type.Union([Type.Literal('module'), Type.Literal('onnx'), Type.Literal('graph')], {
        description:
          'What serves the model: `module` (a TS/JS class, needs class_path), `onnx` (needs model_path) or `graph` (needs graph). Inferred when absent.',
      }),
    ),
    graph: Type.Optional(GraphSchema),
    decorators: Type.Optional(
      Type.Array(DecoratorEntrySchema, { description: "Wrappers around the model's predict, first listed outermost (docs/decorators.md)." }),
    ),
    examples: Type.Optional(
      Type.Array(ExampleEntrySchema, {
        description: "Self-tests run after load and on /api/health/ready?deep=true, and shown as OpenAPI examples; added after the model's own (docs/self-tests.md).",
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
    ...servingKeys('entry'),
    monitoring: Type.Optional(
      Type.Object(monitoringKeys(), { additionalProperties: false, description: "This model's prediction log settings, over the server-wide `monitoring`." }),
    ),
    workers: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Run the model in this many worker threads, so its computation does not block the event loop (health checks, other models, reading the next requests). Code models: predict() in a pool, one copy of the model per thread. ONNX models: one session per thread. 0: on the main thread.',
      }),
    ),
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
    headers_timeout_ms: Type.Integer({
      minimum: 0,
      default: 10_000,
      description:
        'Longest a client may take to send the request line and headers (counted from its first byte; a new connection ' +
        "counts from when it opened). Past it: 408 RequestTimeoutError and the connection is closed (Node's headersTimeout; " +
        "Node's default 60000). 0: no limit. Bounds slowloris-style clients that hold a connection with an unfinished header.",
    }),
    request_timeout_ms: Type.Integer({
      minimum: 0,
      default: 60_000,
      description:
        "Longest a client may take to send its whole request, headers and body. Past it: 408 RequestTimeoutError and the " +
        "connection is closed (Node's requestTimeout; Node's default 300000, fastify's 0: none). It ends when the body is " +
        "in: time in the model is not counted (that is timeout_ms). 0: no limit.",
    }),
    keep_alive_timeout_ms: Type.Integer({
      minimum: 0,
      default: 72_000,
      description:
        "How long an idle keep-alive connection is kept open after a response (Node's keepAliveTimeout, default 5000; " +
        "fastify's 72000). Keep it above the idle timeout of the load balancer in front (AWS ALB and nginx: 60 s), so the " +
        'balancer, not the server, closes idle connections and never sends a request on one the server is closing. 0: no limit.',
    }),
    max_heap_ratio: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.9,
      description:
        "Readiness fails (503, saying why) while the main thread's V8 heap in use is above this share of its limit (v8 " +
        'heap_size_limit), so a leaking model is taken out of rotation before the process dies of heap exhaustion. 0 or 1: off.',
    }),
    processes: Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('auto')], {
      default: 1,
      description:
        'Server processes sharing the port (node:cluster), each loading its own models; `auto` is one per core ' +
        '(os.availableParallelism()). 1 serves from this one process with no cluster. See docs/deployment.md.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const HealthSchema = Type.Object(
  {
    ready_without_models: Type.Boolean({
      default: false,
      description: 'Report ready when no model is configured. Off by default: a server with nothing to serve is not ready.',
    }),
    deep_check_interval_ms: Type.Integer({
      minimum: 0,
      default: 10_000,
      description:
        "GET /api/health/ready?deep=true re-runs the models' self-tests at most once per this interval; a probe in between gets the last result.",
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
    metrics: MetricsSchema,
    monitoring: MonitoringSchema,
    defaults: ServingDefaultsSchema,
    models: Type.Array(ModelEntrySchema, { default: [], description: 'The models to serve, in order.' }),
  },
  { additionalProperties: false },
);

/** A validated configuration with every default filled in. */
export type LongshoreConfig = Static<typeof ConfigSchema>;
export type ModelEntry = Static<typeof ModelEntrySchema>;
export type GraphEntry = Static<typeof GraphSchema>;
export type DecoratorEntry = Static<typeof DecoratorEntrySchema>;
export type { LogLevel } from './observability-schema.js';
