/**
 * The error table of the REST API: each failure gets its catalogue type, status and `{type, message, details}` body;
 * 5xx responses carry no stack trace and are logged with the request id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { PREDICT_FAILURE } from '../fixtures/code-models/throwing-predict.ts';
import { buildService, captureLogger, configYaml, fixture, type LogLine, type TestService } from '../helpers/service.ts';

interface ErrorBody {
  type: string;
  message: string;
  details: { path: string; message: string }[];
}

/** Asserts the response is a catalogue error of `type` and `status` with the REST error body shape. */
function assertError(response: LightMyRequestResponse, status: number, type: string): ErrorBody {
  assert.equal(response.statusCode, status, `expected ${status} ${type}, got ${response.statusCode}: ${response.body}`);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const body = response.json() as ErrorBody;
  assert.deepEqual(Object.keys(body).sort(), ['details', 'message', 'type']);
  assert.equal(body.type, type);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  assert.ok(Array.isArray(body.details));
  for (const detail of body.details) assert.deepEqual(Object.keys(detail).sort(), ['message', 'path']);
  return body;
}

const BODY_LIMIT = 256;

describe('REST error responses', () => {
  let service: TestService;
  let logLines: LogLine[];
  before(async () => {
    const { logger, lines } = captureLogger();
    logLines = lines;
    service = await buildService(
      configYaml(
        [
          { class_path: fixture('echo.ts', 'EchoModel') },
          { class_path: fixture('batch.ts', 'BatchModel') },
          { class_path: fixture('throwing-predict.ts', 'ThrowingPredictModel') },
          { class_path: fixture('bad-output.ts', 'BadOutputModel') },
          { class_path: fixture('failing-load.ts', 'FailingLoadModel'), configuration: { message: 'weights checksum mismatch' } },
          { class_path: fixture('slow.ts', 'SlowModel') },
        ],
        { server: { body_limit_bytes: BODY_LIMIT } },
      ),
      { load: false, logger },
    );
    // Load everything except the slow model, which stays in `loading` for the whole suite.
    await Promise.all(service.registry.list().filter((m) => m.name !== 'slow').map((m) => m.load()));
  });
  after(() => service.close());

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    service.app.inject({ method: 'POST', url, payload: payload as string, headers });

  describe('400 SchemaValidationError', () => {
    it('names every failing field: missing, wrong type and extra', async () => {
      const body = assertError(await post('/api/models/echo/prediction', { name: 7, colour: 'red' }), 400, 'SchemaValidationError');
      assert.deepEqual(
        [...body.details].sort((a, b) => a.path.localeCompare(b.path)),
        [
          { path: '/colour', message: 'is not an allowed field' },
          { path: '/name', message: 'must be string' },
          { path: '/x', message: 'is required' },
        ],
      );
      assert.match(body.message, /input schema of model 'echo'/);
    });

    it('names every failing record and field of a batch by index', async () => {
      const body = assertError(await post('/api/models/batcher/predictions', [{ n: 1 }, { n: 'two' }, { m: 3 }]), 400, 'SchemaValidationError');
      assert.deepEqual(body.details, [
        { path: '/1/n', message: 'must be number' },
        { path: '/2/n', message: 'is required' },
        { path: '/2/m', message: 'is not an allowed field' },
      ]);
    });

    it('rejects a body that is not an object', async () => {
      const body = assertError(await post('/api/models/echo/prediction', [1, 2]), 400, 'SchemaValidationError');
      assert.deepEqual(body.details, [{ path: '/', message: 'must be object' }]);
    });

    it('rejects a batch body that is not an array', async () => {
      const body = assertError(await post('/api/models/batcher/predictions', { n: 1 }), 400, 'SchemaValidationError');
      assert.deepEqual(body.details, [{ path: '/', message: 'must be array' }]);
    });
  });

  describe('400 MalformedRequestError', () => {
    it('rejects malformed JSON', async () => {
      const body = assertError(await post('/api/models/echo/prediction', '{"x": 1,', { 'content-type': 'application/json' }), 400, 'MalformedRequestError');
      assert.match(body.message, /not valid JSON/);
    });

    it('rejects malformed JSON sent to the batch route', async () => {
      assertError(await post('/api/models/echo/predictions', '[{]', { 'content-type': 'application/json' }), 400, 'MalformedRequestError');
    });

    it('rejects an empty body with a JSON content type', async () => {
      const body = assertError(await post('/api/models/echo/prediction', '', { 'content-type': 'application/json' }), 400, 'MalformedRequestError');
      assert.match(body.message, /empty/);
    });
  });

  describe('415 UnsupportedMediaTypeError', () => {
    it('rejects a text/plain body', async () => {
      const body = assertError(
        await post('/api/models/echo/prediction', '{"x": 1, "name": "a"}', { 'content-type': 'text/plain' }),
        415,
        'UnsupportedMediaTypeError',
      );
      assert.match(body.message, /application\/json/);
    });

    it('rejects an application/xml body', async () => {
      assertError(await post('/api/models/echo/prediction', '<x>1</x>', { 'content-type': 'application/xml' }), 415, 'UnsupportedMediaTypeError');
    });
  });

  describe('413 PayloadTooLargeError', () => {
    it('rejects a body over server.body_limit_bytes', async () => {
      const payload = JSON.stringify({ x: 1, name: 'n'.repeat(BODY_LIMIT) });
      const body = assertError(await post('/api/models/echo/prediction', payload, { 'content-type': 'application/json' }), 413, 'PayloadTooLargeError');
      assert.match(body.message, new RegExp(`${BODY_LIMIT} bytes`));
    });

    it('accepts a body just under the limit', async () => {
      const base = JSON.stringify({ x: 1, name: '' });
      const payload = JSON.stringify({ x: 1, name: 'n'.repeat(BODY_LIMIT - base.length) });
      assert.equal(payload.length, BODY_LIMIT);
      const response = await post('/api/models/echo/prediction', payload, { 'content-type': 'application/json' });
      assert.equal(response.statusCode, 200);
    });
  });

  describe('404', () => {
    it('returns ModelNotFoundError naming the served models for an unknown model', async () => {
      for (const url of ['/api/models/nope/prediction', '/api/models/nope/predictions']) {
        const body = assertError(await post(url, url.endsWith('s') ? [] : {}), 404, 'ModelNotFoundError');
        assert.match(body.message, /model 'nope' not found; served models: echo, batcher, thrower/);
      }
    });

    it('returns RouteNotFoundError for an unknown URL', async () => {
      const body = assertError(await service.app.inject({ url: '/api/nothing-here?x=1' }), 404, 'RouteNotFoundError');
      assert.equal(body.message, 'no route for GET /api/nothing-here; the API is described at /docs');
    });

    it('returns RouteNotFoundError for a known URL with the wrong method', async () => {
      assertError(await service.app.inject({ method: 'GET', url: '/api/models/echo/prediction' }), 404, 'RouteNotFoundError');
      assertError(await service.app.inject({ method: 'DELETE', url: '/api/models' }), 404, 'RouteNotFoundError');
    });
  });

  describe('503 ModelNotReadyError', () => {
    it('tells the client to retry while the model is loading', async () => {
      for (const [url, payload] of [
        ['/api/models/slow/prediction', { value: 1 }],
        ['/api/models/slow/predictions', [{ value: 1 }]],
      ] as const) {
        const response = await post(url, payload);
        const body = assertError(response, 503, 'ModelNotReadyError');
        assert.equal(response.headers['retry-after'], '2');
        assert.match(body.message, /still loading/);
      }
    });

    it('gives the load error of a model that failed to load', async () => {
      const response = await post('/api/models/failing/prediction', {});
      const body = assertError(response, 503, 'ModelNotReadyError');
      assert.match(body.message, /weights checksum mismatch/);
      assert.equal(response.headers['retry-after'], undefined);
    });

    it('lists the failed model with status failed and its error while the others keep serving', async () => {
      const models = ((await service.app.inject({ url: '/api/models' })).json() as { models: { qualified_name: string; status: string; error?: string }[] }).models;
      const failing = models.find((m) => m.qualified_name === 'failing');
      assert.deepEqual({ status: failing?.status, error: failing?.error }, { status: 'failed', error: 'weights checksum mismatch' });
      assert.equal(models.find((m) => m.qualified_name === 'echo')?.status, 'ready');
      assert.equal(models.find((m) => m.qualified_name === 'echo')?.error, undefined);
      const served = await post('/api/models/echo/prediction', { x: 2, name: 'b' });
      assert.equal(served.statusCode, 200);
      assert.deepEqual(served.json(), { doubled: 4, greeting: 'hello b' });
    });
  });

  describe('500 InferenceError', () => {
    const hasStack = (text: string) => /\s{4}at /.test(text) || text.includes('.ts:');

    it('is returned when predict throws, without a stack trace, and logged with the request id', async () => {
      const response = await post('/api/models/thrower/prediction', {}, { 'x-request-id': 'req-throw-1' });
      const body = assertError(response, 500, 'InferenceError');
      assert.equal(body.message, `model 'thrower' failed to predict: ${PREDICT_FAILURE}`);
      assert.ok(!hasStack(response.body), response.body);
      const logged = logLines.filter((line) => line.request_id === 'req-throw-1');
      assert.equal(logged.length, 1, 'one log line for the failed request');
      const [line] = logged as [LogLine];
      assert.equal(line.level, 50);
      assert.equal(line.msg, body.message, 'the log line says what the client was told');
      const err = line.err as { message?: string; stack?: string };
      assert.match(String(err.message), new RegExp(PREDICT_FAILURE));
      assert.match(String(err.stack), /throwing-predict\.ts/, "the log keeps the stack of the model's error");
    });

    it('is returned when a batch predict throws', async () => {
      const response = await post('/api/models/thrower/predictions', [{}, {}], { 'x-request-id': 'req-throw-batch' });
      assertError(response, 500, 'InferenceError');
      assert.ok(!hasStack(response.body));
      assert.ok(logLines.some((line) => line.request_id === 'req-throw-batch' && line.level === 50));
    });

    it('is returned when the output fails the output schema, naming the failing fields', async () => {
      const response = await post('/api/models/bad_output/prediction', {}, { 'x-request-id': 'req-bad-output' });
      const body = assertError(response, 500, 'InferenceError');
      assert.match(body.message, /does not match its output schema/);
      assert.deepEqual(body.details, [{ path: '/score', message: 'must be number' }]);
      assert.ok(!hasStack(response.body));
      const line = logLines.find((l) => l.request_id === 'req-bad-output');
      assert.ok(line, 'the failure is logged with the request id');
      assert.equal(line.level, 50);
      assert.match(String((line.err as { message?: string }).message), /output schema/);
    });

    it('logs under the generated request id when the client sent none', async () => {
      const response = await post('/api/models/thrower/prediction', {});
      const id = String(response.headers['x-request-id']);
      assert.ok(logLines.some((line) => line.request_id === id && line.level === 50));
    });

    it('does not log 4xx errors as errors', async () => {
      await post('/api/models/echo/prediction', {}, { 'x-request-id': 'req-4xx' });
      assert.deepEqual(logLines.filter((line) => line.request_id === 'req-4xx' && line.level >= 50), []);
    });
  });
});

describe('REST error responses for unexpected failures', () => {
  it('answers 500 InternalError without details or stack, and logs the cause with the request id', async (t) => {
    const { logger, lines } = captureLogger();
    const service = await buildService(configYaml([{ class_path: fixture('throwing-predict.ts', 'ThrowingPredictModel') }]), { logger });
    t.after(() => service.close());
    // An output its schema ({type: object}) accepts but that cannot be written as JSON.
    service.registry.require('thrower').model.predict = () => ({ count: 10n });
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/models/thrower/prediction',
      payload: {},
      headers: { 'x-request-id': 'req-internal' },
    });
    const body = assertError(response, 500, 'InternalError');
    assert.equal(body.message, 'internal server error; the log has details under this request id');
    assert.ok(!response.body.includes('BigInt'), 'the cause stays in the log');
    const line = lines.find((l) => l.request_id === 'req-internal');
    assert.ok(line, 'logged with the request id');
    assert.equal(line.level, 50);
    assert.match(String((line.err as { stack?: string }).stack), /BigInt/);
  });
});
