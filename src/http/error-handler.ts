/**
 * The one place errors become HTTP responses: catalogue errors keep their status, fastify's own errors are mapped into
 * the catalogue, anything else is an InternalError. 5xx are logged in full with the request id; clients get no stack.
 * With the access log on, that log line is the request's access line (src/http/access-log.ts), not a second one.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  InternalError,
  LongshoreError,
  MalformedRequestError,
  PayloadTooLargeError,
  RouteNotFoundError,
  SchemaValidationError,
  UnsupportedMediaTypeError,
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

/** A failure worth logging in full: every 5xx except 503 and 504, which are expected states (loading, overload, deadlines). */
export function isLoggedFailure(error: LongshoreError): boolean {
  return error.status >= 500 && error.status !== 503 && error.status !== 504;
}

export function installErrorHandling(app: FastifyInstance, bodyLimitBytes: number, options: ErrorHandlingOptions = {}): void {
  app.decorateRequest('longshoreError', null);
  app.decorateRequest('longshoreObserved', false);
  app.decorate(ACCESS_LOG, options.accessLog ?? false);
  app.setNotFoundHandler((request, reply) => {
    sendError(request, reply, new RouteNotFoundError(`no route for ${request.method} ${request.url.split('?')[0]}; the API is described at /docs`));
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    sendError(request, reply, toCatalogueError(error, bodyLimitBytes));
  });
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: LongshoreError): void {
  request.longshoreError = error;
  // Failures are logged in full (the original stack is the cause's); 503/504 are expected states, not failures. With
  // the access log on, the access line carries the error, unless that line was already written (the client left).
  const onAccessLine = (request.server as unknown as Record<symbol, boolean>)[ACCESS_LOG] === true && !request.longshoreObserved;
  if (isLoggedFailure(error) && !onAccessLine) {
    request.log.error(
      { request_id: request.id, err: error.cause instanceof Error ? error.cause : error, error_type: error.type },
      error.message,
    );
  }
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  // The Open Inference Protocol's routes answer errors as {"error": message}; the REST API with the full body.
  const body: ErrorBody | { error: string } = request.url.startsWith('/v2')
    ? { error: error.message }
    : { type: error.type, message: error.message, details: error.details };
  void reply.code(error.status).type('application/json; charset=utf-8').send(body);
}

/** Maps anything thrown in a request into the catalogue. */
export function toCatalogueError(error: FastifyError | Error, bodyLimitBytes: number): LongshoreError {
  if (error instanceof LongshoreError) return error;
  const fastifyError = error as FastifyError;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(`unsupported Content-Type; send the body as application/json`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(`request body is larger than the limit of ${bodyLimitBytes} bytes (server.body_limit_bytes)`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MalformedRequestError('request body is empty; send a JSON document');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MalformedRequestError(`request body is not valid JSON: ${fastifyError.message}`);
  }
  if (fastifyError.validation) {
    const details = fastifyError.validation.map((v) => ({ path: v.instancePath || '/', message: v.message ?? 'is invalid' }));
    return new SchemaValidationError(`request ${fastifyError.validationContext ?? 'body'} is invalid: ${fastifyError.message}`, { details });
  }
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) {
    return new MalformedRequestError(`malformed request: ${error.message}`);
  }
  return new InternalError('internal server error; the log has details under this request id', { cause: error });
}
