/**
 * http/error-handler.ts: mapping anything thrown in a request into the error catalogue.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyError } from 'fastify';
import { ERROR_STATUS, InferenceError, InternalError, ModelNotFoundError, NotImplementedError } from '../../src/errors.ts';
import { isLoggedFailure, toCatalogueError } from '../../src/http/error-handler.ts';

function fastifyError(code: string, message: string, extra: Partial<FastifyError> = {}): FastifyError {
  return Object.assign(new Error(message), { code, ...extra }) as FastifyError;
}

describe('toCatalogueError', () => {
  it('keeps catalogue errors as they are', () => {
    const error = new ModelNotFoundError('no such model');
    assert.equal(toCatalogueError(error, 10), error);
  });

  it("maps fastify's body errors to their catalogue types", () => {
    const cases: [string, string, number][] = [
      ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'UnsupportedMediaTypeError', 415],
      ['FST_ERR_CTP_BODY_TOO_LARGE', 'PayloadTooLargeError', 413],
      ['FST_ERR_CTP_EMPTY_JSON_BODY', 'MalformedRequestError', 400],
      ['FST_ERR_CTP_INVALID_JSON_BODY', 'MalformedRequestError', 400],
    ];
    for (const [code, type, status] of cases) {
      const mapped = toCatalogueError(fastifyError(code, 'x'), 1234);
      assert.equal(mapped.type, type, code);
      assert.equal(mapped.status, status, code);
    }
    assert.match(toCatalogueError(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 'x'), 1234).message, /1234 bytes/);
  });

  it('maps fastify schema validation errors to SchemaValidationError with one detail per problem', () => {
    const error = fastifyError('FST_ERR_VALIDATION', 'params/name must be string', {
      validation: [
        { instancePath: '/name', message: 'must be string', keyword: 'type', schemaPath: '', params: {} },
        { instancePath: '', message: 'must be object', keyword: 'type', schemaPath: '', params: {} },
      ],
      validationContext: 'params',
    });
    const mapped = toCatalogueError(error, 10);
    assert.equal(mapped.type, 'SchemaValidationError');
    assert.deepEqual(mapped.details, [
      { path: '/name', message: 'must be string' },
      { path: '/', message: 'must be object' },
    ]);
    assert.match(mapped.message, /^request params is invalid/);
  });

  it('maps any other 400 to MalformedRequestError', () => {
    assert.equal(toCatalogueError(fastifyError('FST_SOMETHING', 'bad header', { statusCode: 400 }), 10).type, 'MalformedRequestError');
  });

  it("maps fastify's URL errors and any plugin's 4xx into the catalogue, never a 500", () => {
    const cases: [Error, string, number][] = [
      [fastifyError('FST_ERR_BAD_URL', "'/%zz' is not a valid url component", { statusCode: 400 }), 'MalformedRequestError', 400],
      [fastifyError('FST_ERR_MAX_PARAM_LENGTH', 'too long', { statusCode: 414 }), 'UriTooLongError', 414],
      [fastifyError('FST_STATIC_FORBIDDEN_PATH', 'Forbidden', { statusCode: 403 }), 'RouteNotFoundError', 404],
      [Object.assign(new Error('Range Not Satisfiable'), { status: 416, statusCode: 416 }), 'RangeNotSatisfiableError', 416],
      [Object.assign(new Error('Precondition Failed'), { status: 412, statusCode: 412 }), 'PreconditionFailedError', 412],
      [Object.assign(new Error("I'm a teapot"), { statusCode: 418 }), 'MalformedRequestError', 400],
    ];
    for (const [error, type, status] of cases) {
      const mapped = toCatalogueError(error, 10);
      assert.equal(mapped.type, type, error.message);
      assert.equal(mapped.status, status, error.message);
    }
  });

  it('logs 501 NotImplementedError as an answer, not a failure; other 5xx but 503/504 are failures', () => {
    assert.equal(isLoggedFailure(new NotImplementedError('no explain')), false);
    assert.equal(isLoggedFailure(new InternalError('bug')), true);
    assert.equal(isLoggedFailure(new InferenceError('model threw')), true);
  });

  it('turns an unexpected error into InternalError without leaking its message, keeping it as the cause', () => {
    const secret = new TypeError("Cannot read properties of undefined (reading 'password')");
    const mapped = toCatalogueError(secret, 10);
    assert.equal(mapped.type, 'InternalError');
    assert.equal(mapped.status, 500);
    assert.ok(!mapped.message.includes('password'));
    assert.equal(mapped.cause, secret);
  });
});

describe('the error catalogue', () => {
  it('gives every type its documented HTTP status', () => {
    assert.deepEqual(ERROR_STATUS, {
      SchemaValidationError: 400,
      MalformedRequestError: 400,
      ModelLoadError: 400,
      UnsupportedModelError: 400,
      UnauthorizedError: 401,
      ForbiddenError: 403,
      RouteNotFoundError: 404,
      ModelNotFoundError: 404,
      RequestTimeoutError: 408,
      ModelInUseError: 409,
      PreconditionFailedError: 412,
      PayloadTooLargeError: 413,
      TooManyRecordsError: 413,
      TooManyElementsError: 413,
      UriTooLongError: 414,
      UnsupportedMediaTypeError: 415,
      RangeNotSatisfiableError: 416,
      ExpectationFailedError: 417,
      RateLimitedError: 429,
      HeadersTooLargeError: 431,
      InferenceError: 500,
      InternalError: 500,
      ConfigError: 500,
      ModelNotReadyError: 503,
      QueueFullError: 503,
      NotImplementedError: 501,
      DeadlineExceededError: 504,
      RequestCancelledError: 499,
    });
    const error = new InferenceError('m', { details: [{ path: '/a', message: 'b' }] });
    assert.equal(error.name, 'InferenceError');
    assert.equal(error.status, 500);
    assert.deepEqual(error.details, [{ path: '/a', message: 'b' }]);
  });
});
