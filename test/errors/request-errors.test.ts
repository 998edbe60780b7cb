/**
 * Errors answered to a request: a predictBatch that breaks its contract (model/served-model.ts, 500 InferenceError),
 * and the generic 400 fallback of http/error-handler.ts, reached by a body shorter than its Content-Length (a fastify
 * error with status 400 that none of the mapped codes covers), on both APIs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { buildService, captureLogger, configYaml, fixture, type LogLine, type TestService } from '../helpers/service.ts';

interface ErrorBody {
  type: string;
  message: string;
  details: { path: string; message: string }[];
}

function errorBody(response: LightMyRequestResponse, status: number, type: string): ErrorBody {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json() as ErrorBody;
  assert.equal(body.type, type, response.body);
  return body;
}

describe('a predictBatch that returns the wrong thing', () => {
  const MISCOUNTING = fixture('miscounting-batch.ts', 'MiscountingBatchModel');
  let service: TestService;
  before(async () => {
    service = await buildService(
      configYaml([
        { class_path: MISCOUNTING, qualified_name: 'non_array', configuration: { returns: 'non-array' } },
        { class_path: MISCOUNTING, qualified_name: 'fewer', configuration: { returns: 'fewer' } },
        { class_path: MISCOUNTING, qualified_name: 'more', configuration: { returns: 'more' } },
      ]),
    );
  });
  after(() => service.close());

  const predictions = (name: string, payload: unknown[]) =>
    service.app.inject({ method: 'POST', url: `/api/models/${name}/predictions`, payload: payload as never });

  it('answers 500 InferenceError when it returns a non-array', async () => {
    const body = errorBody(await predictions('non_array', [{ n: 1 }, { n: 2 }]), 500, 'InferenceError');
    assert.equal(body.message, "model 'non_array' returned a non-array for a batch of 2 inputs");
    assert.deepEqual(body.details, []);
  });

  it('answers 500 InferenceError when it returns fewer outputs than inputs', async () => {
    const body = errorBody(await predictions('fewer', [{ n: 1 }, { n: 2 }, { n: 3 }]), 500, 'InferenceError');
    assert.equal(body.message, "model 'fewer' returned 2 outputs for a batch of 3 inputs");
  });

  it('answers 500 InferenceError when it returns more outputs than inputs', async () => {
    const body = errorBody(await predictions('more', [{ n: 1 }]), 500, 'InferenceError');
    assert.equal(body.message, "model 'more' returned 2 outputs for a batch of 1 inputs");
  });

  it('reports the same failure on the Open Inference Protocol, which runs a record model through predictBatch', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/v2/models/non_array/infer',
      payload: { inputs: [{ name: 'n', datatype: 'FP64', shape: [2], data: [1, 2] }] },
    });
    assert.equal(response.statusCode, 500, response.body);
    assert.deepEqual(response.json(), { error: "model 'non_array' returned a non-array for a batch of 2 inputs" });
  });

  it('leaves single predictions, which do not use predictBatch, working', async () => {
    const response = await service.app.inject({ method: 'POST', url: '/api/models/fewer/prediction', payload: { n: 4 } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { n: 4 });
  });
});

describe('a request whose body does not match its Content-Length', () => {
  let service: TestService;
  let logLines: LogLine[];
  before(async () => {
    const { logger, lines } = captureLogger();
    logLines = lines;
    service = await buildService(configYaml([{ class_path: fixture('echo.ts', 'EchoModel') }]), { logger });
  });
  after(() => service.close());

  const body = JSON.stringify({ x: 1, name: 'a' });
  const shortBody = (url: string) =>
    service.app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length + 10) },
    });

  it('answers 400 MalformedRequestError on the REST API', async () => {
    const response = await shortBody('/api/models/echo/prediction');
    assert.equal(response.statusCode, 400, response.body);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.deepEqual(response.json(), {
      type: 'MalformedRequestError',
      message: 'malformed request: Request body size did not match Content-Length',
      details: [],
    });
  });

  it('answers 400 with the Open Inference Protocol error body on /v2', async () => {
    const response = await shortBody('/v2/models/echo/infer');
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(response.json(), { error: 'malformed request: Request body size did not match Content-Length' });
  });

  it('is a client error: nothing is logged at error level', () => {
    assert.deepEqual(
      logLines.filter((line) => line.level >= 50),
      [],
    );
  });

  it('still serves the same request when the Content-Length is right', async () => {
    const response = await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', payload: body, headers: { 'content-type': 'application/json' } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { doubled: 2, greeting: 'hello a' });
  });
});
