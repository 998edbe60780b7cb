/**
 * The one place errors become HTTP responses: catalogue errors keep their status, fastify's own errors (and those of
 * Node's HTTP parser, before any route: see client-errors.ts) are mapped into the catalogue, anything else is an
 * InternalError. Failures (5xx but 503, 504 and 501) are logged in full with the request id; clients get no stack.
 * With the access log on, that log line is the request's access line (src/http/access-log.ts), not a second one.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ERROR_STATUS,
  HeadersTooLargeError,
  InternalError,
  LongshoreError,
  MalformedRequestError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  RequestTimeoutError,
  RouteNotFoundError,
  SchemaValidationError,
  UnsupportedMediaTypeError,
  UriTooLongError,
} from '../errors.js';

/** REST body of every error. */
export interface ErrorBody {
  type: string;
  message: string;
  details: { path: string; message: string }[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The error this request was answered with (set by sendError), for the access log and its error_type. */
    longshoreError: LongshoreError | null;
    /** The metrics and the access log have accounted for this request (its response finished, or its client left). */
    longshoreObserved: boolean;
  }
}

export interface ErrorHandlingOptions {
  /** logging.access_log: failures are then logged on the request's access line, not here. */
  readonly accessLog?: boolean;
}

const ACCESS_LOG = Symbol('longshore.accessLog');
const REQUEST_ID = Symbol('longshore.requestId');
const ANSWERED_ON_SOCKET = Symbol('longshore.answeredOnSocket');

type MarkedResponse = ServerResponse & { [REQUEST_ID]?: string; [ANSWERED_ON_SOCKET]?: LongshoreError };

/** Remembers a request's id on its raw response, for an answer written before fastify has one (client-errors.ts). */
export function setRequestIdOf(response: ServerResponse, id: string): void {
  (response as MarkedResponse)[REQUEST_ID] = id;
}

export function requestIdOf(response: ServerResponse): string | undefined {
  return (response as MarkedResponse)[REQUEST_ID];
}

/** Marks a request in flight as answered on its socket by the client error handler (a 408: its body came too slowly). */
export function markAnsweredOnSocket(response: ServerResponse, error: LongshoreError): void {
  (response as MarkedResponse)[ANSWERED_ON_SOCKET] = error;
}

/** The error a request in flight was answered with on its socket, if it was. */
export function answeredOnSocket(response: ServerResponse): LongshoreError | undefined {
  return (response as MarkedResponse)[ANSWERED_ON_SOCKET];
}

/**
 * A failure worth logging in full: every 5xx except 503 and 504, which are expected states (loading, overload,
 * deadlines), and 501 NotImplementedError, the documented answer to a client asking for what a model does not have.
 * 4xx are the client's doing: a client must not be able to flood the log with error lines and stacks.
 */
export function isLoggedFailure(error: LongshoreError): boolean {
  return error.status >= 500 && error.status !== 503 && error.status !== 504 && error.type !== 'NotImplementedError';
}

/** Writes the body of an error; each protocol's plugin sets its own in its scope (catalogueErrorHandler). */
export type ErrorRenderer = (error: LongshoreError) => ErrorBody | { error: string };

/** longshore's REST body: a stable type, a message, one detail per problem. */
export const restErrorBody: ErrorRenderer = (error) => ({ type: error.type, message: error.message, details: error.details });

/** The Open Inference Protocol's body: `{"error": message}`. */
export const v2ErrorBody: ErrorRenderer = (error) => ({ error: error.message });

/**
 * The body of an error for a request that matched no route (or failed before routing: Node's parser, fastify's URL
 * checks), where no plugin's scope applies: by its path, the protocol's body under /v2, the REST body elsewhere.
 */
export function unroutedErrorBody(url: string): ErrorRenderer {
  return url.startsWith('/v2') ? v2ErrorBody : restErrorBody;
}

/** The error handler of a plugin's scope: anything thrown becomes a catalogue error, written with `render`. */
export function catalogueErrorHandler(bodyLimitBytes: number, render: ErrorRenderer) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    // The route's own body limit and the key that set it (limits.<group>.body_limit_bytes, http/limits.ts).
    const bodyLimit = { bytes: request.routeOptions.bodyLimit ?? bodyLimitBytes, key: request.routeOptions.config.longshoreLimits?.bodyLimitKey };
    sendError(request, reply, toCatalogueError(error, bodyLimit.bytes, bodyLimit.key), render);
  };
}

export function installErrorHandling(app: FastifyInstance, bodyLimitBytes: number, options: ErrorHandlingOptions = {}): void {
  app.decorateRequest('longshoreError', null);
  app.decorateRequest('longshoreObserved', false);
  app.decorate(ACCESS_LOG, options.accessLog ?? false);
  app.setNotFoundHandler((request, reply) => {
    sendError(request, reply, new RouteNotFoundError(`no route for ${request.method} ${request.url.split('?')[0]}; the API is described at /docs`));
  });
  // The root scope: the fixed routes (health, docs, metrics) and requests no route matched (a wrong method on a /v2
  // path whose body failed to parse, say), whose body goes by their path.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    sendError(request, reply, toCatalogueError(error, bodyLimitBytes), unroutedErrorBody(request.url));
  });
}

/** Answers with `error`, logged as its status says; `render` writes the body (by default: by path, unroutedErrorBody). */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: LongshoreError, render: ErrorRenderer = unroutedErrorBody(request.url)): void {
  // Already answered on the socket (408, then the unfinished body's read fails): nothing left to say, nobody to say it to.
  if (answeredOnSocket(reply.raw) !== undefined) return;
  request.longshoreError = error;
  // Failures are logged in full (the original stack is the cause's); 503/504 are expected states, not failures. With
  // the access log on, the access line carries the error, unless that line was already written (the client left).
  const onAccessLine = (request.server as unknown as Record<symbol, boolean>)[ACCESS_LOG] === true && !request.longshoreObserved;
  if (!onAccessLine) {
    if (isLoggedFailure(error)) {
      request.log.error(
        { request_id: request.id, err: error.cause instanceof Error ? error.cause : error, error_type: error.type },
        error.message,
      );
    } else if (error.status < 500 || error.type === 'NotImplementedError') {
      // The client's own doing (and 501): one short line at debug, no stack, so no client can flood the log.
      request.log.debug({ request_id: request.id, status: error.status, error_type: error.type }, error.message);
    }
  }
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  void reply.code(error.status).type('application/json; charset=utf-8').send(render(error));
}

/** The catalogue type of each 4xx fastify or one of its plugins may answer with (any other 4xx becomes a 400). */
const CLIENT_STATUS_ERRORS: Record<number, new (message: string) => LongshoreError> = {
  [ERROR_STATUS.RouteNotFoundError]: RouteNotFoundError,
  [ERROR_STATUS.RequestTimeoutError]: RequestTimeoutError,
  [ERROR_STATUS.PreconditionFailedError]: PreconditionFailedError,
  [ERROR_STATUS.PayloadTooLargeError]: PayloadTooLargeError,
  [ERROR_STATUS.UriTooLongError]: UriTooLongError,
  [ERROR_STATUS.UnsupportedMediaTypeError]: UnsupportedMediaTypeError,
  [ERROR_STATUS.RangeNotSatisfiableError]: RangeNotSatisfiableError,
  [ERROR_STATUS.HeadersTooLargeError]: HeadersTooLargeError,
};

/** Maps anything thrown in a request into the catalogue. */
export function toCatalogueError(error: FastifyError | Error, bodyLimitBytes: number, bodyLimitKey = 'server.body_limit_bytes'): LongshoreError {
  if (error instanceof LongshoreError) return error;
  const fastifyError = error as FastifyError;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(`unsupported Content-Type; send the body as application/json`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(`request body is larger than the limit of ${bodyLimitBytes} bytes (${bodyLimitKey})`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MalformedRequestError('request body is empty; send a JSON document');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MalformedRequestError(`request body is not valid JSON: ${fastifyError.message}`);
    case 'FST_ERR_BAD_URL':
      return new MalformedRequestError(`the URL is not valid: ${fastifyError.message}`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new UriTooLongError('a segment of the URL (e.g. a model name) is longer than 100 characters');
  }
  if (fastifyError.validation) {
    const details = fastifyError.validation.map((v) => ({ path: v.instancePath || '/', message: v.message ?? 'is invalid' }));
    return new SchemaValidationError(`request ${fastifyError.validationContext ?? 'body'} is invalid: ${fastifyError.message}`, { details });
  }
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) {
    return new MalformedRequestError(`malformed request: ${error.message}`);
  }
  // A 4xx of fastify or a plugin (@fastify/static's 403, 412, 416...): the client's doing, never a 500.
  const status = fastifyError.statusCode ?? (error as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // @fastify/static's 403 (FST_STATIC_FORBIDDEN_PATH: a path that leaves the docs' static directory, `%2e%2e`,
    // `..%5c`, a NUL byte): for the client, nothing is there.
    if (status === 403) return new RouteNotFoundError('no such file under /docs/static');
    const ErrorClass = CLIENT_STATUS_ERRORS[status] ?? MalformedRequestError;
    return new ErrorClass(`request refused (${status}): ${error.message}`);
  }
  return new InternalError('internal server error; the log has details under this request id', { cause: error });
}
