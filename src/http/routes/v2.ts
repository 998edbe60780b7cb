/**
 * The Open Inference Protocol (KServe V2) REST routes, each a thin adapter over the dataplane. Bodies are read as raw
 * bytes in this scope, so one handler serves JSON, the binary tensor extension and the raw form; the dataplane decodes
 * them (decodeInferRequest) only once the model is known to answer. Errors in this scope are `{"error": message}`: the
 * plugin sets its own error handler (error-handler.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dataplane } from '../../dataplane/dataplane.js';
import { ModelNotReadyError } from '../../errors.js';
import { decodeInferRequest, encodeInferResponse, type DecodedInferRequest } from '../../tensors/v2-message.js';
import type { TraceSpan } from '../../tracing/span.js';
import { traceStep } from '../../tracing/steps.js';
import type { InferResponse } from '../../wire.js';
import { callOptions, TIMEOUT_HEADER } from '../call-options.js';
import { catalogueErrorHandler, v2ErrorBody } from '../error-handler.js';
import { maxTensorElements } from '../limits.js';
import { isTimed, setServerTiming, startTiming, timedCall } from '../timing.js';
import type { CallTiming } from '../../tracing/timing.js';
import { v2RepositoryRoutes } from './repository.js';
import { V2_SCHEMAS } from './v2-schemas.js';

type ModelParams = { name: string; version?: string };

const HEADER_LENGTH = 'inference-header-content-length';

/** `timingAlways`: server.timing_headers (every infer answer carries Server-Timing, docs/timing.md). */
export async function buildV2Routes(app: FastifyInstance, dataplane: Dataplane, bodyLimitBytes: number, timingAlways = false): Promise<void> {
  await app.register(async (v2) => {
    v2.setErrorHandler(catalogueErrorHandler(bodyLimitBytes, v2ErrorBody));
    // Every body is taken as bytes: JSON, framed binary and raw tensors are told apart by the header, not the type.
    // Which types are accepted (JSON, octet-stream or none; else 415) is checked before the body is read
    // (request-body.ts), as is Content-Encoding.
    v2.removeAllContentTypeParsers();
    v2.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    // Bodies are Buffers here, so schemas are for the documentation; infer checks requests itself.
    v2.setValidatorCompiler(() => () => true);

    const tags = ['open inference protocol'];
    v2.get('/v2', { schema: { tags, summary: 'Server metadata', response: { 200: V2_SCHEMAS.serverMetadata } } }, async () => dataplane.serverMetadata());
    v2.get('/v2/', { schema: { hide: true } }, async () => dataplane.serverMetadata());

    v2.get('/v2/health/live', { schema: { tags, summary: 'Server liveness', response: { 200: V2_SCHEMAS.live } } }, async () => ({ live: true }));
    v2.get('/v2/health/ready', { schema: { tags, summary: 'Server readiness: every required model ready', response: { 200: V2_SCHEMAS.ready, 503: V2_SCHEMAS.error } } }, async () => {
      const problems = dataplane.readinessProblems();
      if (problems.length > 0) throw new ModelNotReadyError(`server is not ready: ${problems.join('; ')}`);
      return { ready: true };
    });

    if (dataplane.repositoryApi) v2RepositoryRoutes(v2, dataplane, V2_SCHEMAS.error);

    for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
      const params = prefix.includes(':version') ? V2_SCHEMAS.versionedParams : V2_SCHEMAS.params;
      v2.get<{ Params: ModelParams }>(
        `${prefix}/ready`,
        { schema: { tags, summary: 'Model readiness', params, response: { 200: V2_SCHEMAS.modelReady, 404: V2_SCHEMAS.error, 503: V2_SCHEMAS.error } } },
        async (request) => {
          const { name, version } = request.params;
          dataplane.assertModelReady(name, version);
          return { name, ready: true };
        },
      );
      v2.get<{ Params: ModelParams }>(
        prefix,
        { schema: { tags, summary: 'Model metadata: its tensors (-1 marks a dynamic dimension)', params, response: { 200: V2_SCHEMAS.modelMetadata, 404: V2_SCHEMAS.error, 503: V2_SCHEMAS.error } } },
        async (request) => dataplane.tensorMetadata(request.params.name, request.params.version),
      );
      v2.post<{ Params: ModelParams; Body: Buffer }>(
        `${prefix}/infer`,
        {
          schema: {
            tags,
            summary: 'Inference (JSON, or the binary tensor extension with Inference-Header-Content-Length)',
            description:
              "A deadline may be given as parameters.timeout (microseconds) or the x-request-timeout-ms header; the shortest of them and the model's timeout_ms applies (504 past it).",
            params,
            headers: {
              type: 'object',
              properties: { [TIMEOUT_HEADER]: { type: 'number', exclusiveMinimum: 0, description: 'Your deadline in milliseconds, time queued included.' } },
            },
            body: {
              content: {
                'application/json': { schema: V2_SCHEMAS.inferRequest },
                'application/octet-stream': { schema: V2_SCHEMAS.binaryBody },
              },
            },
            response: {
              200: {
                description: 'The outputs: JSON, or framed binary (with Inference-Header-Content-Length) when binary outputs were asked for.',
                content: {
                  'application/json': { schema: V2_SCHEMAS.inferResponse },
                  'application/octet-stream': { schema: V2_SCHEMAS.binaryBody },
                },
              },
              400: V2_SCHEMAS.error, 404: V2_SCHEMAS.error, 413: V2_SCHEMAS.error, 415: V2_SCHEMAS.error, 500: V2_SCHEMAS.error, 503: V2_SCHEMAS.error, 504: V2_SCHEMAS.error },
          },
        },
        async (request, reply) => (isTimed(request, timingAlways) ? timedInfer(dataplane, request, reply, startTiming(request)) : infer(dataplane, request, reply)),
      );
      v2.post<{ Params: ModelParams; Body: Buffer }>(
        `${prefix}/explain`,
        {
          schema: {
            tags,
            summary: "Explain: the model's explain() per row, as JSON text in a BYTES output named explanation (501 when the model has none)",
            params,
            body: { content: { 'application/json': { schema: V2_SCHEMAS.inferRequest }, 'application/octet-stream': { schema: V2_SCHEMAS.binaryBody } } },
            response: { 200: V2_SCHEMAS.inferResponse, 400: V2_SCHEMAS.error, 404: V2_SCHEMAS.error, 413: V2_SCHEMAS.error, 415: V2_SCHEMAS.error, 500: V2_SCHEMAS.error, 501: V2_SCHEMAS.error, 503: V2_SCHEMAS.error },
          },
        },
        async (request, reply) => explain(dataplane, request, reply),
      );
    }
  });
}

type V2Request = FastifyRequest<{ Params: ModelParams; Body: Buffer }>;

async function infer(dataplane: Dataplane, request: V2Request, reply: FastifyReply): Promise<void> {
  const { name, version } = request.params;
  const answer = await dataplane.infer(name, version, decoder(request), (decoded) => callOptions(request, reply, decoded.timeoutMs));
  await sendResponse(reply, answer.response, answer.request.binaryOutputs, request.longshoreSpan);
}

/** infer with Server-Timing: the decoding counted from the handler's start, the encoding around encodeInferResponse. */
async function timedInfer(dataplane: Dataplane, request: V2Request, reply: FastifyReply, timing: CallTiming): Promise<void> {
  const { name, version } = request.params;
  const answer = await timedCall(reply, timing, () => dataplane.infer(name, version, decoder(request), (decoded) => callOptions(request, reply, decoded.timeoutMs, timing)));
  await sendResponse(reply, answer.response, answer.request.binaryOutputs, request.longshoreSpan, timing);
}

async function explain(dataplane: Dataplane, request: V2Request, reply: FastifyReply): Promise<void> {
  const { name, version } = request.params;
  const answer = await dataplane.explainTensors(name, version, decoder(request), (decoded) => callOptions(request, reply, decoded.timeoutMs));
  await sendResponse(reply, answer.response, answer.request.binaryOutputs, request.longshoreSpan);
}

/** Decodes the body (JSON, framed binary or raw), when the dataplane asks: after the model was found ready. */
function decoder(request: V2Request): (rawInput: Parameters<typeof decodeInferRequest>[2]) => DecodedInferRequest {
  const decode = (rawInput: Parameters<typeof decodeInferRequest>[2]): DecodedInferRequest => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const headerLength = request.headers[HEADER_LENGTH];
    return decodeInferRequest(body, Array.isArray(headerLength) ? headerLength[0] : headerLength, rawInput, maxTensorElements(request));
  };
  const span = request.longshoreSpan;
  return span ? (rawInput) => traceStep(span, 'decode', () => decode(rawInput)) : decode;
}

async function sendResponse(
  reply: FastifyReply,
  response: InferResponse,
  binaryOutputs: DecodedInferRequest['binaryOutputs'],
  span?: TraceSpan | null,
  timing?: CallTiming,
): Promise<void> {
  const started = timing === undefined ? 0 : performance.now();
  const encoded = span ? traceStep(span, 'encode', () => encodeInferResponse(response, binaryOutputs)) : encodeInferResponse(response, binaryOutputs);
  if (timing !== undefined) {
    timing.encodeMs = performance.now() - started;
    setServerTiming(reply, timing);
  }
  if (encoded.headerLength === undefined) {
    await reply.type('application/json').send(encoded.body);
    return;
  }
  await reply.type('application/octet-stream').header(HEADER_LENGTH, String(encoded.headerLength)).send(encoded.body);
}
