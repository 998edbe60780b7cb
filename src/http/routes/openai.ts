/**
 * The OpenAI-compatible routes (docs/openai.md): `POST /v1/embeddings`, so OpenAI's clients (the `openai` npm and
 * Python packages, LangChain...) get embeddings from longshore's feature-extraction models. This module reads and
 * writes OpenAI's body; the dataplane finds the model, checks it and runs the texts as one /predictions call. Errors
 * have longshore's REST body (OpenAI's clients read the status and show the body's message).
 */
import type { FastifyInstance } from 'fastify';
import type { Dataplane } from '../../dataplane/dataplane.js';
import { SchemaValidationError, quote } from '../../errors.js';
import { callOptions } from '../call-options.js';
import { catalogueErrorHandler, restErrorBody } from '../error-handler.js';
import { ERROR_SCHEMA_ID } from '../openapi.js';

export const EMBEDDINGS_ROUTE = '/v1/embeddings';

/** The request, read and checked. */
export interface EmbeddingsRequest {
  /** The served model's name, and its version when `model` was `name:version`. */
  readonly name: string;
  readonly version: string | undefined;
  /** As the request gave it, echoed in the response. */
  readonly model: string;
  readonly texts: readonly string[];
  readonly base64: boolean;
  readonly dimensions: number | undefined;
}

const errorRef = { $ref: `${ERROR_SCHEMA_ID}#` } as const;

const EmbeddingsBody = {
  type: 'object',
  properties: {
    model: { type: 'string', description: "A served model's qualified_name, or name:version for one version. It must be a feature-extraction model with pooling (mean or cls)." },
    input: {
      description: 'The text, or an array of texts (at most limits.predict.max_records). Token arrays are not accepted: send the text.',
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
    },
    encoding_format: { type: 'string', enum: ['float', 'base64'], default: 'float', description: 'float: arrays of numbers; base64: each vector as little-endian float32 bytes, base64-encoded.' },
    dimensions: { type: 'integer', minimum: 1, description: "Keep the first N values and scale them back to unit length. At most the model's vector size." },
    user: { type: 'string', description: 'Accepted and ignored.' },
  },
  required: ['model', 'input'],
} as const;

const EmbeddingsResponse = {
  type: 'object',
  properties: {
    object: { type: 'string', enum: ['list'] },
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          object: { type: 'string', enum: ['embedding'] },
          index: { type: 'integer', description: 'The position of the text in input.' },
          embedding: { anyOf: [{ type: 'array', items: { type: 'number' } }, { type: 'string', description: 'base64 of little-endian float32 values' }] },
        },
        required: ['object', 'index', 'embedding'],
      },
    },
    model: { type: 'string', description: 'The model field of the request.' },
    usage: {
      type: 'object',
      properties: {
        prompt_tokens: { type: 'integer', description: "Tokens of every text with the model's tokenizer, special tokens included, after truncation." },
        total_tokens: { type: 'integer', description: 'Equal to prompt_tokens.' },
      },
      required: ['prompt_tokens', 'total_tokens'],
    },
  },
  required: ['object', 'data', 'model', 'usage'],
} as const;

/** The OpenAI-compatible routes, in a scope whose errors have longshore's REST body. */
export async function buildOpenAiRoutes(app: FastifyInstance, dataplane: Dataplane, bodyLimitBytes: number): Promise<void> {
  await app.register(async (openai) => {
    openai.setErrorHandler(catalogueErrorHandler(bodyLimitBytes, restErrorBody));
    openai.post(
      EMBEDDINGS_ROUTE,
      {
        schema: {
          tags: ['openai'],
          summary: 'Embeddings of texts, as OpenAI answers them (POST /v1/embeddings)',
          description: 'OpenAI-compatible: point an OpenAI client at http://host:port/v1. See docs/openai.md for the differences.',
          body: EmbeddingsBody,
          response: { 200: EmbeddingsResponse, 400: errorRef, 404: errorRef, 413: errorRef, 503: errorRef, 504: errorRef },
        },
        // The body is read by readEmbeddingsRequest, whose messages say what to send instead (the schema documents it).
        validatorCompiler: () => () => true,
        // The response schema documents; JSON.stringify writes (fast-json-stringify would test each vector against the
        // anyOf of `embedding` to pick a branch).
        serializerCompiler: () => JSON.stringify,
      },
      async (request, reply) => {
        const body = readEmbeddingsRequest(request.body);
        const { vectors, promptTokens } = await dataplane.embeddings(body.name, body.version, body.texts, body.dimensions, callOptions(request, reply));
        return {
          object: 'list',
          data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: body.base64 ? base64Of(vector) : vector })),
          model: body.model,
          usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
        };
      },
    );
  });
}

function invalid(path: string, problem: string, message: string): SchemaValidationError {
  return new SchemaValidationError(message, { details: [{ path, message: problem }] });
}

/** Reads OpenAI's body; 400 naming the field and what to send for anything it cannot serve. Unknown fields are ignored. */
export function readEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('/', 'must be object', 'the body must be a JSON object: {"model": "<name>", "input": "<text>" or ["<text>", ...]}');
  }
  const { model, input, encoding_format: format, dimensions, user } = body as Record<string, unknown>;
  if (typeof model !== 'string' || model === '') {
    throw invalid('/model', 'must be a non-empty string', `model must be a served model's name (GET /api/models lists them), got ${quote(model)}`);
  }
  const colon = model.indexOf(':');
  const name = colon < 0 ? model : model.slice(0, colon);
  const version = colon < 0 ? undefined : model.slice(colon + 1);
  const request = { name, version, model, texts: textsOf(input), base64: base64Format(format), dimensions: dimensionsOf(dimensions) };
  checkUser(user);
  return request;
}

function textsOf(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) {
    throw invalid('/input', 'must be a string or an array of strings', `input must be a text or an array of texts, got ${quote(input)}`);
  }
  if (input.length === 0) throw invalid('/input', 'must not be empty', 'input is an empty array: send at least one text');
  if (input.every((item) => typeof item === 'number')) throw tokenIds('/input');
  for (let index = 0; index < input.length; index++) {
    const text = input[index] as unknown;
    if (typeof text === 'string') continue;
    if (Array.isArray(text) && text.length > 0 && text.every((item) => typeof item === 'number')) throw tokenIds(`/input/${index}`);
    throw invalid(`/input/${index}`, 'must be a string', `input[${index}] must be a text, got ${quote(text)}`);
  }
  return input as string[];
}

function tokenIds(path: string): SchemaValidationError {
  return invalid(path, 'token ids are not accepted', "input holds token ids; longshore tokenizes with the model's own tokenizer, so send the text instead");
}

function base64Format(format: unknown): boolean {
  if (format === undefined || format === null || format === 'float') return false;
  if (format === 'base64') return true;
  throw invalid('/encoding_format', "must be 'float' or 'base64'", `encoding_format must be "float" or "base64", got ${quote(format)}`);
}

function dimensionsOf(dimensions: unknown): number | undefined {
  if (dimensions === undefined || dimensions === null) return undefined;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1) {
    throw invalid('/dimensions', 'must be a positive integer', `dimensions must be a positive integer (the number of values to keep), got ${quote(dimensions)}`);
  }
  return dimensions;
}

/** `user` is accepted (a string, as OpenAI's) and ignored. */
function checkUser(user: unknown): void {
  if (user !== undefined && user !== null && typeof user !== 'string') throw invalid('/user', 'must be a string', `user must be a string, got ${quote(user)}`);
}

/** A vector as OpenAI's base64: its values as little-endian float32 bytes. */
export function base64Of(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i] as number, i * 4);
  return bytes.toString('base64');
}
