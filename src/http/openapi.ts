/**
 * The OpenAPI document: @fastify/swagger describes the fixed routes from their own schemas; this module adds one
 * prediction path (and a score path) per model with the model's input and output schemas as named components. The result is rebuilt
 * only when a model's state changes (a model finishing its load may reveal its schemas), never per request.
 */
import type { FastifyInstance } from 'fastify';
import type { Dataplane, DocumentedModel } from '../dataplane/dataplane.js';
import type { SchemaObject as SchemaRecord } from '../wire.js';

export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, unknown>;
  components: { schemas: Record<string, unknown> };
};

/** Name of the shared error body component (registered by buildApp with this `$id`). */
export const ERROR_SCHEMA_ID = 'ErrorResponse';

const ERROR_RESPONSES: Record<string, string> = {
  400: 'SchemaValidationError (the body does not match the input schema; `details` names every failing field) or MalformedRequestError (not JSON).',
  404: 'ModelNotFoundError: no such model, or the model has no endpoint.',
  413: 'PayloadTooLargeError: the body is over server.body_limit_bytes (or limits.predict.body_limit_bytes); TooManyRecordsError: more records than limits.predict.max_records.',
  415: 'UnsupportedMediaTypeError: send application/json.',
  500: 'InferenceError: the model failed, or its output did not match its output schema.',
  503: "ModelNotReadyError: the model is loading (see Retry-After), failed to load, or the server is shutting down; or QueueFullError: the model's queue is full (see Retry-After).",
  504: "DeadlineExceededError: the request's deadline (the model's timeout_ms, or x-request-timeout-ms) passed while it was queued or running.",
};

/** The client's own deadline, accepted by every prediction route. */
const TIMEOUT_PARAMETER = {
  name: 'x-request-timeout-ms',
  in: 'header',
  required: false,
  description: "Your deadline in milliseconds, time queued included. The shorter of it and the model's timeout_ms applies; past it the answer is 504 DeadlineExceededError.",
  schema: { type: 'number', exclusiveMinimum: 0 },
};

/** Returns a function that gives the current document, rebuilding it when the models' version moved. */
export function createOpenApiDocumentSource(app: FastifyInstance, dataplane: Dataplane): () => OpenApiDocument {
  let cached: { version: number; document: OpenApiDocument } | undefined;
  return () => {
    if (cached?.version !== dataplane.modelsVersion) {
      const version = dataplane.modelsVersion;
      cached = { version, document: withModelPaths(app.swagger() as unknown as OpenApiDocument, dataplane.documentedModels(), (name) => dataplane.documentedDefault(name)) };
    }
    return cached.document;
  };
}

/**
 * Adds each callable model's paths and schema components to a copy of the base document. A name with one version has
 * its paths under `/api/models/{name}/`; a name with several has each version's under
 * `/api/models/{name}/versions/{version}/` (components `{name}_v{version}_input`...), and the default paths document
 * the version they serve now (`defaultOf`: the newest ready one).
 */
export function withModelPaths(
  base: OpenApiDocument,
  models: readonly DocumentedModel[],
  defaultOf: (name: string) => DocumentedModel | undefined = (name) => models.find((model) => model.name === name),
): OpenApiDocument {
  const document = structuredClone(base);
  document.components ??= { schemas: {} };
  document.components.schemas ??= {};
  const tags = [...((document.tags as unknown[] | undefined) ?? [])];
  const counts = new Map<string, number>();
  for (const model of models) counts.set(model.name, (counts.get(model.name) ?? 0) + 1);
  for (const model of models) {
    if (!model.createEndpoint) continue;
    const several = (counts.get(model.name) ?? 1) > 1;
    if (several) {
      const tag = `${model.name} v${model.version}`;
      tags.push({ name: tag, description: `${model.metadata.display_name}, version ${model.version}. ${model.metadata.description}`.trim() });
      documentPaths(document, model, `/api/models/${model.name}/versions/${model.version}`, componentNames(`${model.name}_v${model.version}`), tag);
    }
    if (defaultOf(model.name) !== model) continue;
    const tag = model.name;
    const serving = several ? `serves version ${model.version}, its newest ready version` : `version ${model.version}`;
    tags.push({ name: tag, description: `${model.metadata.display_name} (${serving}). ${model.metadata.description}`.trim() });
    documentPaths(document, model, `/api/models/${model.name}`, componentNames(model.name), tag);
  }
  document.tags = tags;
  return document;
}

/** One model's paths under `prefix`, with its schemas as the components `names`. */
function documentPaths(document: OpenApiDocument, model: DocumentedModel, prefix: string, { input, output }: { input: string; output: string }, tag: string): void {
  const schemas = document.components?.schemas as Record<string, unknown>;
  schemas[input] = toComponent(model.inputSchema, `Input record of ${model.name} (version ${model.version}).`);
  schemas[output] = toComponent(model.outputSchema, `Output record of ${model.name} (version ${model.version}).`);
  const prediction = operation(model, tag, 'prediction', { $ref: ref(input) }, { $ref: ref(output) }, 'Predict one record.');
  document.paths[`${prefix}/prediction`] = { post: withExamples(prediction, model) };
  document.paths[`${prefix}/predictions`] = {
    post: operation(
      model,
      tag,
      'predictions',
      { type: 'array', items: { $ref: ref(input) } },
      { type: 'array', items: { $ref: ref(output) } },
      'Predict a batch of records in one call; outputs come back in input order.',
    ),
  };
  document.paths[`${prefix}/score`] = {
    post: operation(
      model,
      tag,
      'score',
      scoreRequestSchema(input),
      SCORE_RESPONSE,
      'Quality metrics over labelled examples (docs/score.md): the model\'s own score(), or accuracy / macro precision, recall, F1 for a classifier and MAE, RMSE, R² for a regressor.',
      'The metrics.',
    ),
  };
  if (model.explains) {
    document.paths[`${prefix}/explain`] = {
      post: operation(model, tag, 'explain', { $ref: ref(input) }, {}, "Why the model answers what it does for one record (the model's explain()).", 'The explanation.'),
    };
  }
  for (const op of model.operations) {
    document.paths[`${prefix}/operations/${op.name}`] = {
      post: operation(model, tag, `operation_${op.name}`, toComponent(op.input_schema, ''), toComponent(op.output_schema, ''), op.description || `Operation ${op.name}.`, "The operation's result."),
    };
  }
}

/** Component names of a model's schemas: `<qualified_name>_input` / `_output`. */
export function componentNames(name: string): { input: string; output: string } {
  return { input: `${name}_input`, output: `${name}_output` };
}

/** The score body: examples of an input record (the model's input component) and the expected output or its value. */
function scoreRequestSchema(input: string): SchemaRecord {
  return {
    type: 'object',
    required: ['examples'],
    additionalProperties: false,
    properties: {
      examples: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['input', 'expected'],
          additionalProperties: false,
          properties: {
            input: { $ref: ref(input) },
            expected: {
              description: 'The expected output record, or only its label (classifier) or value (regressor).',
              oneOf: [{ type: 'object' }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'array' }],
            },
          },
        },
      },
      target: {
        type: 'string',
        description: 'The output field to compare with `expected`. Default: label, variable or value when the output has one, else its only single-valued field.',
      },
      task: { type: 'string', enum: ['classification', 'regression'], description: 'Which metrics to compute. Default: inferred from the field and the values.' },
    },
  };
}

const SCORE_RESPONSE: SchemaRecord = {
  type: 'object',
  required: ['metrics', 'computed_by'],
  properties: {
    metrics: {
      type: 'object',
      additionalProperties: { type: 'number' },
      description: 'Metric name → value: accuracy, precision_macro, recall_macro, f1_macro, count (classification); mae, rmse, r2, count (regression); or what the model\'s score() returned.',
    },
    computed_by: { type: 'string', enum: ['model', 'longshore'] },
    task: { type: 'string', enum: ['classification', 'regression'] },
    target: { type: 'string', description: 'The output field compared.' },
  },
};

function operation(model: DocumentedModel, tag: string, kind: string, request: SchemaRecord, response: SchemaRecord, summary: string, ok = 'The model output.') {
  const responses: Record<string, unknown> = {
    200: { description: ok, content: { 'application/json': { schema: response } } },
  };
  for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
    responses[status] = { description, content: { 'application/json': { schema: { $ref: ref(ERROR_SCHEMA_ID) } } } };
  }
  return {
    tags: [tag],
    operationId: `${kind}_${tag.replace(/ /g, '_')}`,
    summary: `${model.metadata.display_name}: ${summary}`,
    description: model.metadata.description,
    parameters: [TIMEOUT_PARAMETER],
    requestBody: { required: true, content: { 'application/json': { schema: request } } },
    responses,
  };
}

/** The model's self-tests as named request examples (docs/self-tests.md). */
function withExamples(operationObject: ReturnType<typeof operation>, model: DocumentedModel): ReturnType<typeof operation> {
  const examples = model.requestExamples;
  if (examples.length === 0) return operationObject;
  const named = Object.fromEntries(examples.map((example) => [example.name, { summary: example.name, value: example.input }]));
  const json: Record<string, unknown> = { ...operationObject.requestBody.content['application/json'], examples: named };
  return { ...operationObject, requestBody: { ...operationObject.requestBody, content: { 'application/json': json } } } as ReturnType<typeof operation>;
}

function ref(component: string): string {
  return `#/components/schemas/${component}`;
}

/** A JSON copy of a model schema fit to be a component (no `$id`/`$schema`, which would re-base references). */
function toComponent(schema: SchemaRecord | undefined, description: string): SchemaRecord {
  if (schema === undefined) return { type: 'object', description: `${description} Documented once the model has loaded.` };
  const copy = JSON.parse(JSON.stringify(schema)) as SchemaRecord;
  delete copy.$id;
  delete copy.$schema;
  return copy;
}
