/**
 * The seeds' REST API: list models, describe one, predict one record or a batch, score labelled examples
 * (docs/score.md). Each handler is a dataplane call.
 * Prediction and score bodies are validated by the dataplane against each model's compiled schema, so these routes are generic
 * and hidden; openapi.ts documents one concrete path per model instead.
 */
import type { FastifyInstance } from 'fastify';
import type { Dataplane } from '../../dataplane/dataplane.js';
import { callOptions } from '../call-options.js';
import { catalogueErrorHandler, restErrorBody } from '../error-handler.js';
import { ERROR_SCHEMA_ID } from '../openapi.js';
import { restCall } from '../timing.js';
import { restRepositoryRoutes } from './repository.js';

const NameParams = {
  type: 'object',
  properties: { name: { type: 'string', description: 'The qualified_name of a model.' } },
  required: ['name'],
} as const;

type ModelParams = { name: string; version?: string };

/** A model's routes: by name (its newest ready version) and by name and version. */
const MODEL_PREFIXES = ['/api/models/:name', '/api/models/:name/versions/:version'] as const;

const VersionedParams = {
  type: 'object',
  properties: { ...NameParams.properties, version: { type: 'string', description: 'One version of the model.' } },
  required: ['name', 'version'],
} as const;

function paramsOf(prefix: string): typeof NameParams | typeof VersionedParams {
  return prefix.includes(':version') ? VersionedParams : NameParams;
}

function withOperation(params: typeof NameParams | typeof VersionedParams) {
  return { ...params, properties: { ...params.properties, operation: { type: 'string' } }, required: [...params.required, 'operation'] };
}

const Listing = {
  type: 'object',
  properties: {
    qualified_name: { type: 'string' },
    display_name: { type: 'string' },
    description: { type: 'string' },
    version: { type: 'string' },
    status: { type: 'string', enum: ['loading', 'ready', 'failed', 'unloading', 'unloaded'] },
    error: { type: 'string', description: 'Why the model failed to load (only when status is failed).' },
  },
  required: ['qualified_name', 'display_name', 'description', 'version', 'status'],
} as const;

const AnySchema = { type: ['object', 'null'], additionalProperties: true, description: 'A JSON Schema (null until the model exposes it).' } as const;

const errorRef = { $ref: `${ERROR_SCHEMA_ID}#` } as const;

/**
 * The REST routes, in a scope whose errors have longshore's REST body. `timingAlways`: server.timing_headers (every
 * prediction answer carries Server-Timing, docs/timing.md).
 */
export async function buildRestRoutes(app: FastifyInstance, dataplane: Dataplane, bodyLimitBytes: number, timingAlways = false): Promise<void> {
  await app.register(async (rest) => {
    rest.setErrorHandler(catalogueErrorHandler(bodyLimitBytes, restErrorBody));
    restRoutes(rest, dataplane, timingAlways);
    if (dataplane.repositoryApi) restRepositoryRoutes(rest, dataplane, errorRef);
  });
}

function restRoutes(app: FastifyInstance, dataplane: Dataplane, timingAlways: boolean): void {
  app.get(
    '/api/models',
    {
      schema: {
        tags: ['models'],
        summary: 'List the models and their load status',
        response: { 200: { type: 'object', properties: { models: { type: 'array', items: Listing } }, required: ['models'] } },
      },
    },
    async () => ({ models: dataplane.listModels() }),
  );

  for (const prefix of MODEL_PREFIXES) versionedRoutes(app, dataplane, prefix, timingAlways);
}

/** A model's routes under `prefix`: its newest ready version, or (with `:version`) one version. */
function versionedRoutes(app: FastifyInstance, dataplane: Dataplane, prefix: string, timingAlways: boolean): void {
  app.get<{ Params: ModelParams }>(
    `${prefix}/metadata`,
    {
      schema: {
        tags: ['models'],
        summary: "A model's metadata, status and input/output JSON Schemas",
        params: paramsOf(prefix),
        response: {
          200: {
            ...Listing,
            properties: {
              ...Listing.properties,
              input_schema: AnySchema,
              output_schema: AnySchema,
              notes: { type: 'array', items: { type: 'string' }, description: 'How the model is served, e.g. ONNX outputs left out and why.' },
              explain: { type: 'boolean', description: 'Whether POST /api/models/{name}/explain answers (else 501).' },
              operations: {
                type: 'array',
                description: 'Custom operations: POST /api/models/{name}/operations/{operation}.',
                items: {
                  type: 'object',
                  properties: { name: { type: 'string' }, description: { type: 'string' }, input_schema: AnySchema, output_schema: AnySchema },
                  required: ['name', 'description', 'input_schema', 'output_schema'],
                },
              },
              examples: { type: 'array', description: 'The self-tests (docs/self-tests.md).', items: {} },
              memory: {
                type: 'object',
                description: 'What the model holds, in bytes by kind (docs/performance.md, "Memory"); measured false for a code model on the main thread.',
                properties: {
                  measured: { type: 'boolean' },
                  bytes: { type: 'object', properties: { onnx_session: { type: 'integer' }, worker_heap: { type: 'integer' } } },
                  method: { type: 'string', description: 'How the bytes were obtained, or why there are none.' },
                },
                required: ['measured', 'bytes', 'method'],
              },
            },
          },
          404: errorRef,
        },
      },
    },
    async (request) => dataplane.describeModel(request.params.name, request.params.version),
  );

  app.post<{ Params: ModelParams }>(
    `${prefix}/prediction`,
    { schema: { hide: true, params: paramsOf(prefix) } },
    async (request, reply) => restCall(request, reply, timingAlways, (context) => dataplane.predict(request.params.name, request.params.version, request.body, context)),
  );

  app.post<{ Params: ModelParams }>(
    `${prefix}/predictions`,
    { schema: { hide: true, params: paramsOf(prefix) } },
    async (request, reply) => restCall(request, reply, timingAlways, (context) => dataplane.predictBatch(request.params.name, request.params.version, request.body, context)),
  );

  app.post<{ Params: ModelParams }>(
    `${prefix}/score`,
    { schema: { hide: true, params: paramsOf(prefix) } },
    async (request, reply) => dataplane.score(request.params.name, request.params.version, request.body, callOptions(request, reply)),
  );

  app.post<{ Params: ModelParams }>(
    `${prefix}/explain`,
    { schema: { hide: true, params: paramsOf(prefix) } },
    async (request, reply) => dataplane.explain(request.params.name, request.params.version, request.body, callOptions(request, reply)),
  );

  app.post<{ Params: ModelParams & { operation: string } }>(
    `${prefix}/operations/:operation`,
    {
      schema: {
        hide: true,
        params: withOperation(paramsOf(prefix)),
      },
    },
    async (request, reply) => dataplane.runOperation(request.params.name, request.params.version, request.params.operation, request.body, callOptions(request, reply)),
  );
}
