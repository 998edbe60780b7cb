/**
 * A model entry's schema, one per runtime: the keys every entry takes (name and metadata, decorators, examples,
 * serving keys, monitoring, ...) in one common part, and each runtime's own keys (`module`: class_path, workers;
 * `onnx`: model_path and the session settings; `graph`: graph). The YAML stays flat: load.ts tells an entry's runtime
 * from its keys, writes it into the entry as `runtime`, and validates the entry against that runtime's schema only, so
 * a key of another runtime is a schema problem that names the runtime.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { GraphSchema } from './graph-schema.js';
import { monitoringKeys } from './observability-schema.js';
import { servingKeys } from './serving-schema.js';

/** Names usable in URLs and as OpenAPI component names. */
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';

export const RUNTIMES = ['module', 'onnx', 'transformers', 'graph'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** How messages name an entry of each runtime, with the key that makes an entry one. */
export const RUNTIME_LABELS: Readonly<Record<Runtime, string>> = {
  module: 'a module model (class_path / runtime: module)',
  onnx: 'an ONNX model (model_path / runtime: onnx)',
  transformers: 'a Hugging Face model (model_path to a folder / runtime: transformers)',
  graph: 'a graph (an entry with graph / runtime: graph)',
};

export const TRANSFORMERS_TASKS = ['text-classification', 'token-classification', 'feature-extraction'] as const;
export const AGGREGATIONS = ['none', 'simple', 'first', 'max', 'average'] as const;
export const POOLINGS = ['mean', 'cls', 'max', 'none'] as const;
export const CLASSIFICATION_FUNCTIONS = ['softmax', 'sigmoid', 'none'] as const;

export const GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

/** Built-in decorators, named in a decorator entry's class_path as `longshore:<name>` (docs/decorators.md). */
export const BUILTIN_DECORATORS = ['prediction_id', 'cache', 'transform', 'checks'] as const;

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

function runtimeKey<R extends Runtime>(runtime: R) {
  return Type.Literal(runtime, {
    description:
      'What serves the model: `module` (a TS/JS class, needs class_path), `onnx` (needs model_path), `transformers` (a Hugging Face folder in model_path) or `graph` (needs graph and qualified_name). ' +
      'Inferred when absent: transformers with a task key or a model_path that is a folder, onnx with another model_path, graph with graph, else module.',
  });
}

const qualifiedName = (description: string) => Type.String({ pattern: MODEL_NAME_PATTERN, description });

/** The keys every entry takes, whatever its runtime. */
function commonKeys() {
  return {
    decorators: Type.Optional(
      Type.Array(DecoratorEntrySchema, { description: "Wrappers around the model's predict, first listed outermost (docs/decorators.md)." }),
    ),
    examples: Type.Optional(
      Type.Array(ExampleEntrySchema, {
        description: "Self-tests run after load and on /api/health/ready?deep=true, and shown as OpenAPI examples; added after the model's own (docs/self-tests.md).",
      }),
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
      description: "Passed as-is to the model's constructor (module runtime; other runtimes ignore it).",
    }),
    qualified_name: Type.Optional(
      qualifiedName("The name in URLs. Overrides the class's qualified_name; for ONNX models defaults to the file name without `.onnx`."),
    ),
    display_name: Type.Optional(Type.String({ description: "Overrides the class's display_name." })),
    description: Type.Optional(Type.String({ description: "Overrides the class's description." })),
    version: Type.Optional(Type.String({ minLength: 1, description: 'Overrides the class\'s version; ONNX models and graphs default to "1".' })),
    versions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            version: Type.String({
              pattern: MODEL_NAME_PATTERN,
              description: 'This version\'s name (a whole number such as `1` is read as its digits), unique in the entry.',
            }),
          },
          {
            additionalProperties: true,
            description: 'One version: `version` plus the entry keys that differ in it (model_path, class_path, configuration, ...); not qualified_name, versions or version_policy.',
          },
        ),
        {
          minItems: 1,
          description:
            'Several versions under one name (docs/model-repository.md): the entry becomes one entry per version, each the entry\'s keys with the version\'s over them. Needs qualified_name; excludes version.',
        },
      ),
    ),
    version_policy: Type.Optional(
      Type.Unknown({
        description: "Which versions are served: `all` (default), `{latest: N}` (the N newest) or `{specific: ['1', '3']}` (docs/model-repository.md).",
      }),
    ),
    ...servingKeys('entry'),
    monitoring: Type.Optional(
      Type.Object(monitoringKeys(), { additionalProperties: false, description: "This model's prediction log settings, over the server-wide `monitoring`." }),
    ),
  };
}

const workers = () =>
  Type.Integer({
    minimum: 0,
    default: 0,
    description:
      'Run the model in this many worker threads, so its computation does not block the event loop (health checks, other models, reading the next requests). Code models: predict() in a pool, one copy of the model per thread. ONNX models: one session per thread. 0: on the main thread.',
  });

export const ModuleEntrySchema = Type.Object(
  {
    runtime: runtimeKey('module'),
    class_path: Type.String({
      minLength: 1,
      description:
        'Where the model class lives: `./models/iris.ts#IrisModel` (relative to this file), `some-package#Export`, ' +
        'or a path without `#` for its default export.',
    }),
    ...commonKeys(),
    workers: workers(),
    memory_limit_mb: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "With workers (code models only): each worker thread's V8 heap limit in MB (resourceLimits.maxOldGenerationSizeMb). A thread that exceeds it is ended and replaced; the call it ran fails (500, naming memory_limit_mb) and the server lives on. Absent: V8's default. Not allowed without workers (the main thread's heap is the process's: node --max-old-space-size).",
      }),
    ),
  },
  { additionalProperties: false, description: 'A TypeScript or JavaScript model class.' },
);

/** onnxruntime's session settings, for every runtime that runs an ONNX graph. */
const sessionKeys = () => ({
  intra_op_threads: Type.Integer({
    minimum: 0,
    default: 1,
    description:
      'ONNX: threads inside one operator. Default 1: on a small machine one thread is faster and steadier per request; 0 lets onnxruntime pick.',
  }),
  inter_op_threads: Type.Optional(Type.Integer({ minimum: 0, description: 'ONNX: threads across independent operators (0: onnxruntime picks).' })),
  graph_optimization_level: Type.Optional(
    Type.Union(
      GRAPH_OPTIMIZATION_LEVELS.map((level) => Type.Literal(level)),
      { description: "ONNX: graph optimizations applied when the session is created (onnxruntime's default: all)." },
    ),
  ),
  execution_providers: Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1,
    default: ['cpu'],
    description: 'ONNX: execution providers in order of preference.',
  }),
});

export const OnnxEntrySchema = Type.Object(
  {
    runtime: runtimeKey('onnx'),
    model_path: Type.String({ minLength: 1, description: 'An ONNX file to serve with no code, relative to this file (`runtime: onnx`).' }),
    ...commonKeys(),
    workers: workers(),
    ...sessionKeys(),
    outputs: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true, description: 'ONNX: graph outputs to return, in order. Default: every tensor output.' }),
    ),
  },
  { additionalProperties: false, description: 'An ONNX file served with no code (docs/onnx.md).' },
);

export const TransformersEntrySchema = Type.Object(
  {
    runtime: runtimeKey('transformers'),
    model_path: Type.String({
      minLength: 1,
      description:
        'A Hugging Face model folder (config.json, tokenizer.json, onnx/model.onnx), relative to this file (docs/huggingface.md). Local files only: download a hub model first.',
    }),
    ...commonKeys(),
    task: Type.Optional(
      Type.Union(
        TRANSFORMERS_TASKS.map((task) => Type.Literal(task)),
        { description: "The pipeline task. Default: from config.json's architectures (…ForSequenceClassification, …ForTokenClassification; sentence-transformers folders and bare …Model: feature-extraction)." },
      ),
    ),
    aggregation: Type.Optional(
      Type.Union(
        AGGREGATIONS.map((value) => Type.Literal(value)),
        { description: 'token-classification: how tokens become entities, as transformers\' aggregation_strategy. Default simple.' },
      ),
    ),
    pooling: Type.Optional(
      Type.Union(
        POOLINGS.map((value) => Type.Literal(value)),
        { description: "feature-extraction: one vector per text (mean, cls, max) or per token (none). Default: the sentence-transformers Pooling module's, else none (as transformers' pipeline)." },
      ),
    ),
    normalize: Type.Optional(
      Type.Boolean({ description: 'feature-extraction: scale each vector to unit length. Default: true when the folder has a sentence-transformers Normalize module.' }),
    ),
    top_k: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('all')], {
        description: 'text-classification: 1 (default) answers the best label; N or `all` also lists the N (all) best under `labels`.',
      }),
    ),
    function_to_apply: Type.Optional(
      Type.Union(
        CLASSIFICATION_FUNCTIONS.map((value) => Type.Literal(value)),
        { description: "text-classification: softmax, sigmoid or none over the logits. Default as transformers: sigmoid for multi-label or one-label models, else softmax." },
      ),
    ),
    max_length: Type.Optional(
      Type.Integer({
        minimum: 4,
        description: "Most tokens per text, special tokens included; a longer text is cut (truncation). Default: the tokenizer's model_max_length (sentence-transformers: max_seq_length), at most the model's positions.",
      }),
    ),
    workers: workers(),
    ...sessionKeys(),
  },
  { additionalProperties: false, description: 'A Hugging Face text model served with no code (docs/huggingface.md).' },
);

export const GraphEntrySchema = Type.Object(
  {
    runtime: runtimeKey('graph'),
    graph: GraphSchema,
    ...commonKeys(),
    qualified_name: qualifiedName('The name in URLs. Required: a graph has no class to take its name from.'),
  },
  { additionalProperties: false, description: 'A model graph over other models of this file (docs/graphs.md).' },
);

/** Each runtime's schema; RUNTIMES order. */
export const ENTRY_SCHEMAS = { module: ModuleEntrySchema, onnx: OnnxEntrySchema, transformers: TransformersEntrySchema, graph: GraphEntrySchema } as const;

/** Keys only ONNX models take (the session settings and outputs). */
export const ONNX_ONLY_KEYS = ['intra_op_threads', 'inter_op_threads', 'graph_optimization_level', 'execution_providers', 'outputs'] as const;

/** Keys that make an entry without `runtime:` a transformers entry (they belong to no other runtime). */
export const TRANSFORMERS_KEYS = ['task', 'aggregation', 'pooling', 'normalize', 'top_k', 'function_to_apply', 'max_length'] as const;

/**
 * One model entry: a union discriminated by `runtime` (Ajv's `discriminator`, so only the schema of the entry's
 * runtime is checked and its defaults filled). load.ts sets `runtime` before validation when the file leaves it out.
 */
export const ModelEntrySchema = Type.Unsafe<ValidatedEntry>({
  type: 'object',
  discriminator: { propertyName: 'runtime' },
  required: ['runtime'],
  oneOf: RUNTIMES.map((runtime): TSchema => ENTRY_SCHEMAS[runtime]),
  description: 'A model to serve. Its runtime is told from its keys: class_path (module), model_path (onnx; transformers for a folder) or graph (graph).',
});

/** An entry as validated (defaults filled, runtime set), before its serving and monitoring settings are resolved. */
export type ValidatedEntry =
  | Static<typeof ModuleEntrySchema>
  | Static<typeof OnnxEntrySchema>
  | Static<typeof TransformersEntrySchema>
  | Static<typeof GraphEntrySchema>;
export type DecoratorEntry = Static<typeof DecoratorEntrySchema>;

/** The runtimes whose schema has `key`, for "this key does not apply" messages. */
export function runtimesWithKey(key: string): Runtime[] {
  return RUNTIMES.filter((runtime) => Object.hasOwn(ENTRY_SCHEMAS[runtime].properties, key));
}
