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

const NameParams = {
  type: 'object',
  properties: { name: { type: 'string', description: 'The qualified_name of a model.' } },
  required: ['name'],
} as const;

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

/** The REST routes, in a scope whose errors have longshore's REST body. */
export async function buildRestRoutes(app: FastifyInstance, dataplane: Dataplane, bodyLimitBytes: number): Promise<void> {
  await app.register(async (rest) => {
    rest.setErrorHandler(catalogueErrorHandler(bodyLimitBytes, restErrorBody));
    restRoutes(rest, dataplane);
  });
}

function restRoutes(app: FastifyInstance, dataplane: Dataplane): void {
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

  app.get<{ Params: { name: string } }>(
    '/api/models/:name/metadata',
    {
      schema: {
        tags: ['models'],
        summary: "A model's metadata, status and input/output JSON Schemas",
        params: NameParams,
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
            },
          },
          404: errorRef,
        },
      },
    },
    async (request) => dataplane.describeModel(request.params.name),
  );

  app.post<{ Params: { name: string } }>(
    '/api/models/:name/prediction',
    { schema: { hide: true, params: NameParams } },
    async (request, reply) => dataplane.predict(request.params.name, request.body, callOptions(request, reply)),
  );

  app.post<{ Params: { name: string } }>(
    '/api/models/:name/predictions',
    { schema: { hide: true, params: NameParams } },
    async (request, reply) => dataplane.predictBatch(request.params.name, request.body, callOptions(request, reply)),
  );

  app.post<{ Params: { name: string } }>(
    '/api/models/:name/score',
    { schema: { hide: true, params: NameParams } },
    async (request, reply) => dataplane.score(request.params.name, request.body, callOptions(request, reply)),
  );

  app.post<{ Params: { name: string } }>(
    '/api/models/:name/explain',
    { schema: { hide: true, params: NameParams } },
    async (request, reply) => dataplane.explain(request.params.name, request.body, callOptions(request, reply)),
  );

  app.post<{ Params: { name: string; operation: string } }>(
    '/api/models/:name/operations/:operation',
    {
      schema: {
        hide: true,
        params: { ...NameParams, properties: { ...NameParams.properties, operation: { type: 'string' } }, required: ['name', 'operation'] },
      },
    },
    async (request, reply) => dataplane.runOperation(request.params.name, request.params.operation, request.body, callOptions(request, reply)),
  );
}
