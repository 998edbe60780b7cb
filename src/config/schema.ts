/**
 * The one schema of `longshore.yaml`: it validates the file, fills defaults, documents every key and gives the TS type.
 * Model entries have one schema per runtime (entry-schema.ts); serving keys and their built-in defaults are in
 * serving-schema.ts, the observability sections in observability-schema.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AuthSchema, type ResolvedAuth } from './auth-schema.js';
import type { ResolvedMonitoring } from './monitoring-defaults.js';
import { CorsSchema, TlsSchema } from './cors-tls-schema.js';
import { LimitsSchema } from './limits-schema.js';
import { ModelEntrySchema, type ValidatedEntry } from './entry-schema.js';
import { LoggingSchema, MetricsSchema, MonitoringSchema } from './observability-schema.js';
import { ServingDefaultsSchema } from './serving-schema.js';
import { TracingSchema } from './tracing-schema.js';
import type { ServingSettings } from './serving.js';

export { LOG_LEVELS } from './observability-schema.js';
export {
  BUILTIN_DECORATORS,
  GRAPH_OPTIMIZATION_LEVELS,
  MODEL_NAME_PATTERN,
  ONNX_ONLY_KEYS,
  RUNTIMES,
  TRANSFORMERS_KEYS,
  ModelEntrySchema,
  type DecoratorEntry,
  type Runtime,
} from './entry-schema.js';
export { ENSEMBLE_COMBINE, GRAPH_KINDS, type GraphEntry } from './graph-schema.js';
export { BATCHING_POLICIES, BUILTIN_SERVING, ServingDefaultsSchema, type BatchingPolicy } from './serving-schema.js';

export const ServerSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address to bind; use 0.0.0.0 in a container.' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8000, description: 'TCP port; 0 picks a free one.' }),
    grpc_port: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65535,
        description:
          'Serve the Open Inference Protocol over gRPC (inference.GRPCInferenceService) on this port as well; absent: no ' +
          'gRPC (grpc-js is not even loaded). 0 picks a free one. See docs/grpc.md.',
      }),
    ),
    grpc_host: Type.Optional(Type.String({ description: 'Address the gRPC port binds; absent: the same as server.host.' })),
    grpc_max_message_bytes: Type.Integer({
      minimum: 1,
      default: 256 * 1024 * 1024,
      description:
        'Largest gRPC message received or sent (gRPC\'s own default, 4 MiB, is too small for real tensors); past it the call ' +
        'ends with RESOURCE_EXHAUSTED naming this key.',
    }),
    drain_delay_ms: Type.Integer({
      minimum: 0,
      default: 0,
      description:
        'On SIGTERM, readiness answers 503 at once but requests are still served for this long before the listener ' +
        'closes, so load balancers notice first. Set it to about your readiness probe period (e.g. 5000 on Kubernetes). ' +
        'Requests that arrive from then on are answered with `Connection: close`, so keep-alive clients open a new ' +
        'connection (to another replica) instead of reusing this one.',
    }),
    shutdown_timeout_ms: Type.Integer({
      minimum: 0,
      default: 10_000,
      description:
        'On SIGTERM, after the listener closes: how long requests in flight may take to finish before every connection ' +
        'still open is closed (a request still being sent, a model call with no deadline), so shutdown is bounded. ' +
        '0: wait for them however long they take.',
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
    repository_api: Type.Boolean({
      default: false,
      description:
        "Serve the model repository API (Triton's model repository extension): POST /v2/repository/index, " +
        '/v2/repository/models/{name}/load and /unload, and the same under /api/repository. Off by default; with auth on ' +
        'it needs the admin scope. One process only (see docs/model-repository.md). Also --repository-api.',
    }),
    timing_headers: Type.Boolean({
      default: false,
      description:
        'Send a Server-Timing header (decode, queue, model, encode, the batch, total) on every REST prediction/predictions ' +
        'and V2 infer answer, and put the same figures on the prediction log record. Off: only requests sending ' +
        '`x-longshore-timing: 1` get them. See docs/timing.md.',
    }),
    watch: Type.Boolean({
      default: false,
      description:
        'Reload when the config file, a model file or the model repository folder changes, as SIGHUP does: changed models ' +
        'are loaded beside the old ones and switched to only once ready. Also --watch.',
    }),
    max_loaded_models: Type.Integer({
      minimum: 0,
      default: 0,
      description:
        'Most models loaded at once in this process (each version counts); 0: no limit, every model loads at start. ' +
        'When set, the first N load at start and the others on their first call (which waits for the load); a load that ' +
        'would exceed N first evicts the least recently used model (its calls in flight finish, then it unloads). Not ' +
        'with graphs. See docs/many-models.md.',
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
    auth: Type.Optional(AuthSchema),
    limits: LimitsSchema,
    monitoring: MonitoringSchema,
    tracing: TracingSchema,
    defaults: ServingDefaultsSchema,
    cors: Type.Optional(CorsSchema),
    tls: Type.Optional(TlsSchema),
    models: Type.Array(ModelEntrySchema, { default: [], description: 'The models to serve, in order.' }),
    model_repository: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A model repository folder (`<repo>/<name>/<version>/model.onnx`, Triton\'s layout), relative to this file; its models are served beside `models:`. `--model-repository` replaces it (docs/model-repository.md).',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The file as validated: every default of the schema filled, model entries with their runtime set. */
export type ValidatedConfig = Static<typeof ConfigSchema>;

/**
 * A model entry as the rest of longshore reads it (frozen): the validated entry, `runtime` set, plus its resolved
 * `serving` settings (entry, then `defaults:`, then built-in) and `monitoring` (entry over the server-wide keys, then
 * the defaults). Discriminated by `runtime`.
 */
export type ModelEntry = Effective<ValidatedEntry>;
export type ModuleModelEntry = Extract<ModelEntry, { runtime: 'module' }>;
export type OnnxModelEntry = Extract<ModelEntry, { runtime: 'onnx' }>;
export type TransformersModelEntry = Extract<ModelEntry, { runtime: 'transformers' }>;
export type GraphModelEntry = Extract<ModelEntry, { runtime: 'graph' }>;

type Effective<T> = T extends unknown
  ? Omit<T, 'monitoring'> & { readonly serving: ServingSettings; readonly monitoring: ResolvedMonitoring }
  : never;

/** A validated configuration with every default filled in and every model entry resolved. */
export type LongshoreConfig = Omit<ValidatedConfig, 'models' | 'auth'> & {
  models: ModelEntry[];
  /** `auth:` with its keys read (as digests); undefined when the file has no `auth:` section (no authentication). */
  auth?: ResolvedAuth | undefined;
};
export { AUTH_SCOPES, type AuthScope, type ResolvedAuth, type ResolvedAuthKey } from './auth-schema.js';
export type { LogLevel } from './observability-schema.js';
export { DEFAULT_MAX_RECORDS, DEFAULT_MAX_TENSOR_ELEMENTS, type LimitGroup, type LimitsConfig, type RateLimitConfig } from './limits-schema.js';
