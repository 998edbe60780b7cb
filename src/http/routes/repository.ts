/**
 * The model repository API (server.repository_api), Triton's model repository extension: `POST /v2/repository/index`,
 * `/v2/repository/models/{name}/load` and `/unload` in the Open Inference Protocol's scope (its error body), and the
 * same under `/api/repository` in the REST scope. Each is a dataplane call; auth gives them the admin scope (they are
 * not in its table of route scopes). docs/model-repository.md.
 */
import type { FastifyInstance } from 'fastify';
import type { Dataplane } from '../../dataplane/dataplane.js';
import { MalformedRequestError, SchemaValidationError } from '../../errors.js';

type NameParams = { Params: { name: string } };

const tags = ['model repository'];
const nameParams = { type: 'object', properties: { name: { type: 'string', description: 'The model.' } }, required: ['name'] } as const;
const indexEntry = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string', description: 'Empty for a model the config knows but no version of which is loaded.' },
    state: { type: 'string', enum: ['READY', 'LOADING', 'UNLOADING', 'UNAVAILABLE'] },
    reason: { type: 'string', description: 'Why the version is not ready, or why a newer load of it failed.' },
  },
  required: ['name', 'version', 'state', 'reason'],
} as const;
const indexBody = {
  type: 'object',
  properties: {
    ready: { type: 'boolean', description: 'true: only the versions that are ready.' },
    repository_name: { type: 'string', description: "Accepted for Triton's clients; longshore has one repository." },
  },
} as const;
const loadBody = {
  type: 'object',
  properties: {
    parameters: {
      type: 'object',
      // anyOf rather than a type list: fastify's ajv (strict types) logs a warning on stderr for `type: [...]`.
      properties: { config: { anyOf: [{ type: 'string' }, { type: 'object' }], description: 'A model entry as in longshore.yaml (JSON text, as Triton takes it, or an object), used instead of the config file\'s.' } },
    },
  },
} as const;
const unloadBody = {
  type: 'object',
  properties: { parameters: { type: 'object', properties: { unload_dependents: { type: 'boolean', description: 'Also unload the graphs that call the model.' } } } },
} as const;
const modelState = {
  type: 'object',
  properties: { model: { type: 'string' }, versions: { type: 'array', items: indexEntry } },
  required: ['model', 'versions'],
} as const;

/** The routes under /v2/repository, in the V2 scope (bodies arrive as bytes there). */
export function v2RepositoryRoutes(app: FastifyInstance, dataplane: Dataplane, errorSchema: unknown): void {
  const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema };
  app.post<{ Body: Buffer }>(
    '/v2/repository/index',
    { schema: { tags, summary: 'Every model version, with its state', body: { content: { 'application/json': { schema: indexBody } } }, response: { 200: { type: 'array', items: indexEntry }, ...errors } } },
    async (request) => dataplane.repositoryIndex(readyOnly(jsonBody(request.body))),
  );
  app.post<NameParams & { Body: Buffer }>(
    '/v2/repository/models/:name/load',
    {
      schema: {
        tags,
        summary: 'Load or reload a model beside what serves it now; switched to once ready (200, empty body)',
        params: nameParams,
        body: { content: { 'application/json': { schema: loadBody } } },
        response: { 200: { type: 'null', description: 'Loaded and serving.' }, ...errors },
      },
    },
    async (request, reply) => {
      await dataplane.loadModel(request.params.name, override(jsonBody(request.body)));
      await reply.code(200).send();
    },
  );
  app.post<NameParams & { Body: Buffer }>(
    '/v2/repository/models/:name/unload',
    {
      schema: {
        tags,
        summary: 'Drain and unload every version of a model (200, empty body)',
        params: nameParams,
        body: { content: { 'application/json': { schema: unloadBody } } },
        response: { 200: { type: 'null', description: 'Unloaded.' }, ...errors },
      },
    },
    async (request, reply) => {
      await dataplane.unloadModel(request.params.name, dependents(jsonBody(request.body)));
      await reply.code(200).send();
    },
  );
}

/** The same operations under /api/repository, in the REST scope (JSON bodies parsed by fastify). */
export function restRepositoryRoutes(app: FastifyInstance, dataplane: Dataplane, errorSchema: unknown): void {
  const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema };
  app.post<{ Body: unknown }>(
    '/api/repository/index',
    { schema: { tags, summary: 'Every model version, with its state', body: { ...indexBody, nullable: true }, response: { 200: { type: 'array', items: indexEntry }, ...errors } } },
    async (request) => dataplane.repositoryIndex(readyOnly(request.body)),
  );
  app.post<NameParams & { Body: unknown }>(
    '/api/repository/models/:name/load',
    { schema: { tags, summary: 'Load or reload a model beside what serves it now; switched to once ready', params: nameParams, body: { ...loadBody, nullable: true }, response: { 200: modelState, ...errors } } },
    async (request) => ({ model: request.params.name, versions: await dataplane.loadModel(request.params.name, override(request.body)) }),
  );
  app.post<NameParams & { Body: unknown }>(
    '/api/repository/models/:name/unload',
    { schema: { tags, summary: 'Drain and unload every version of a model', params: nameParams, body: { ...unloadBody, nullable: true }, response: { 200: modelState, ...errors } } },
    async (request) => ({ model: request.params.name, versions: await dataplane.unloadModel(request.params.name, dependents(request.body)) }),
  );
}

/** A V2 body: empty, or a JSON object. */
function jsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new MalformedRequestError(`the body is not valid JSON: ${(error as Error).message}`);
  }
}

function objectOrNothing(body: unknown): Record<string, unknown> | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('/', 'must be a JSON object');
  return body as Record<string, unknown>;
}

function readyOnly(body: unknown): boolean {
  const ready = objectOrNothing(body)?.ready;
  if (ready !== undefined && typeof ready !== 'boolean') throw invalid('/ready', 'must be boolean');
  return ready === true;
}

function parametersOf(body: unknown): Record<string, unknown> | undefined {
  const parameters = objectOrNothing(body)?.parameters;
  if (parameters === undefined) return undefined;
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) throw invalid('/parameters', 'must be an object');
  return parameters as Record<string, unknown>;
}

/** `parameters.config`: a model entry, as JSON text (Triton) or an object. */
function override(body: unknown): Record<string, unknown> | undefined {
  let config = parametersOf(body)?.config;
  if (config === undefined) return undefined;
  if (typeof config === 'string') {
    try {
      config = JSON.parse(config) as unknown;
    } catch (error) {
      throw invalid('/parameters/config', `is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalid('/parameters/config', 'must be a model entry (a JSON object, as under models: in longshore.yaml)');
  return config as Record<string, unknown>;
}

function dependents(body: unknown): boolean {
  const value = parametersOf(body)?.unload_dependents;
  if (value !== undefined && typeof value !== 'boolean') throw invalid('/parameters/unload_dependents', 'must be boolean');
  return value === true;
}

function invalid(path: string, message: string): SchemaValidationError {
  return new SchemaValidationError(`the request body ${path === '/' ? '' : `${path.slice(1)} `}${message}`, { details: [{ path, message }] });
}
