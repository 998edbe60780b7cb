/**
 * The Open Inference Protocol's non-inference endpoints, with and without `/versions/{version}`: server metadata,
 * liveness, server readiness through every state (loading, failed, zero models, draining), model readiness, model
 * metadata for ONNX and TypeScript models, and 404 `{"error"}` for unknown models, versions and URLs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { SlowModel } from '../fixtures/code-models/slow.ts';
import { FIXTURES } from '../runtimes/onnx-harness.ts';
import { buildService, configYaml, fixture, IRIS_CLASS_PATH, type TestService } from '../helpers/service.ts';
import { assertError } from './v2-helpers.ts';

const IRIS_MODEL = { class_path: IRIS_CLASS_PATH, configuration: { coefficients_path: './iris_logreg_coefficients.json' } };
const IRIS_ONNX = { model_path: `${FIXTURES}iris_logreg.onnx`, qualified_name: 'iris_onnx' };
const SLOW = { class_path: fixture('slow.ts', 'SlowModel') };
const FAILING = { class_path: fixture('failing-load.ts', 'FailingLoadModel'), configuration: { message: 'GPU out of memory' } };

const IRIS_ONNX_METADATA = {
  name: 'iris_onnx',
  versions: ['1'],
  platform: 'onnx_onnxv1',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
  ],
};

const IRIS_MODEL_METADATA = {
  name: 'iris_model',
  versions: ['1.0.0'],
  platform: 'longshore_records',
  inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({ name, datatype: 'FP64', shape: [-1] })),
  outputs: [
    { name: 'species', datatype: 'BYTES', shape: [-1] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP64', shape: [-1, 3] },
  ],
};

async function get(service: TestService, url: string) {
  return service.app.inject({ method: 'GET', url });
}

/** Resolves once `condition()` holds (the fast models of a concurrent loadAll); fails after `ms`. */
async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function start(t: TestContext, models: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<TestService> {
  const service = await buildService(configYaml(models, extra), { load: false });
  t.after(() => service.close());
  return service;
}

describe('V2 endpoints of a loaded service', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(
      configYaml([
        IRIS_MODEL,
        IRIS_ONNX,
        { model_path: `${FIXTURES}multi_input.onnx`, version: '7' },
        { model_path: `${FIXTURES}iris_logreg.onnx`, qualified_name: 'hidden', create_endpoint: false },
        { class_path: fixture('throwing-predict.ts', 'ThrowingPredictModel') },
      ]),
    );
  });
  after(() => service.close());

  it('GET /v2 (and /v2/) is the server metadata with the binary_tensor_data extension', async () => {
    for (const url of ['/v2', '/v2/']) {
      const response = await get(service, url);
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.deepEqual(response.json(), { name: 'longshore', version: '0.1.0', extensions: ['binary_tensor_data'] });
    }
  });

  it('GET /v2/health/live is {"live":true}', async () => {
    const response = await get(service, '/v2/health/live');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { live: true });
  });

  it('GET /v2/health/ready is 200 {"ready":true} when every required model is ready', async () => {
    const response = await get(service, '/v2/health/ready');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { ready: true });
  });

  it('GET /v2/models/{name}/ready is 200 {"name","ready":true}, with and without the version', async () => {
    for (const [url, name] of [
      ['/v2/models/iris_onnx/ready', 'iris_onnx'],
      ['/v2/models/iris_onnx/versions/1/ready', 'iris_onnx'],
      ['/v2/models/iris_model/ready', 'iris_model'],
      ['/v2/models/iris_model/versions/1.0.0/ready', 'iris_model'],
      ['/v2/models/multi_input/versions/7/ready', 'multi_input'],
    ] as const) {
      const response = await get(service, url);
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
      assert.deepEqual(response.json(), { name, ready: true }, url);
    }
  });

  it('model readiness is 404 {"error"} for an unknown model or version', async () => {
    assertError(await get(service, '/v2/models/nope/ready'), 404, /model 'nope' not found; served models: iris_model, iris_onnx, multi_input, hidden/);
    assertError(await get(service, '/v2/models/nope/versions/1/ready'), 404, /model 'nope' not found/);
    assertError(await get(service, '/v2/models/iris_onnx/versions/2/ready'), 404, "model 'iris_onnx' has no version '2'; its versions: 1");
    assertError(await get(service, '/v2/models/multi_input/versions/1/ready'), 404, "model 'multi_input' has no version '1'; its versions: 7");
  });

  it('GET /v2/models/{name} of an ONNX model: platform onnx_onnxv1, graph tensors with -1 for dynamic dims', async () => {
    for (const url of ['/v2/models/iris_onnx', '/v2/models/iris_onnx/versions/1']) {
      const response = await get(service, url);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), IRIS_ONNX_METADATA, url);
    }
    const multi = await get(service, '/v2/models/multi_input/versions/7');
    assert.deepEqual(multi.json(), {
      name: 'multi_input',
      versions: ['7'],
      platform: 'onnx_onnxv1',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [-1, 3] },
        { name: 'b', datatype: 'INT64', shape: [-1, 1] },
      ],
      outputs: [{ name: 'sum', datatype: 'FP32', shape: [-1, 3] }],
    });
  });

  it('GET /v2/models/{name} of a TypeScript record model: platform longshore_records, one column per field', async () => {
    for (const url of ['/v2/models/iris_model', '/v2/models/iris_model/versions/1.0.0']) {
      const response = await get(service, url);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), IRIS_MODEL_METADATA, url);
    }
  });

  it('a create_endpoint: false model is hidden from V2: metadata and readiness are 404, as its infer is', async () => {
    for (const url of ['/v2/models/hidden', '/v2/models/hidden/ready']) assertError(await get(service, url), 404, /'hidden' is loaded but has no prediction endpoint/);
  });

  it('a record model whose schemas have no properties reports an empty tensor view', async () => {
    const response = await get(service, '/v2/models/thrower');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { name: 'thrower', versions: ['1.0.0'], platform: 'longshore_records', inputs: [], outputs: [] });
  });

  it('model metadata is 404 {"error"} for an unknown model or version', async () => {
    assertError(await get(service, '/v2/models/nope'), 404, /model 'nope' not found/);
    assertError(await get(service, '/v2/models/nope/versions/1'), 404, /model 'nope' not found/);
    assertError(await get(service, '/v2/models/iris_model/versions/1'), 404, "model 'iris_model' has no version '1'; its versions: 1.0.0");
  });

  it('unknown URLs and methods under /v2 are 404 {"error"} naming the route', async () => {
    for (const [method, url] of [
      ['GET', '/v2/models'],
      ['GET', '/v2/health'],
      ['GET', '/v2/nothing/here'],
      ['GET', '/v2/models/iris_onnx/infer'],
      ['POST', '/v2/health/live'],
      ['DELETE', '/v2/models/iris_onnx'],
      ['GET', '/v2/models/iris_onnx/versions/1/extra'],
    ] as const) {
      const response = await service.app.inject({ method, url });
      assertError(response, 404, new RegExp(`^no route for ${method} ${url.replace(/[/]/g, '\\/')};`));
    }
  });

  it('every response carries x-request-id, keeping a plain one the client sent', async () => {
    for (const url of ['/v2', '/v2/health/live', '/v2/health/ready', '/v2/models/iris_onnx', '/v2/models/iris_onnx/ready', '/v2/models/nope', '/v2/zzz']) {
      const response = await get(service, url);
      assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/, url);
    }
    const sent = await service.app.inject({ method: 'GET', url: '/v2/models/nope', headers: { 'x-request-id': 'client-abc.1' } });
    assert.equal(sent.headers['x-request-id'], 'client-abc.1');
  });
});

describe('V2 readiness states', () => {
  it('server and model readiness are 503 {"error"} while a model loads, then 200', async (t) => {
    const service = await start(t, [IRIS_MODEL, SLOW]);
    const slow = service.registry.require('slow').model as SlowModel;
    const loading = service.registry.loadAll();
    await until(() => service.registry.require('iris_model').state === 'ready' && slow.loadStarted);

    assertError(await get(service, '/v2/health/ready'), 503, "server is not ready: model 'slow' is loading");
    for (const url of ['/v2/models/slow/ready', '/v2/models/slow/versions/1.0.0/ready']) {
      const response = await get(service, url);
      assertError(response, 503, "model 'slow' is still loading; retry shortly");
      assert.equal(response.headers['retry-after'], '2');
    }
    assertError(await get(service, '/v2/models/slow/versions/9/ready'), 404, /has no version '9'/);
    const infer = await service.app.inject({
      method: 'POST',
      url: '/v2/models/slow/infer',
      payload: JSON.stringify({ inputs: [{ name: 'value', datatype: 'FP64', shape: [1], data: [1] }] }),
      headers: { 'content-type': 'application/json' },
    });
    assertError(infer, 503, /still loading/);
    assert.equal(infer.headers['retry-after'], '2');
    const ready = await get(service, '/v2/models/iris_model/ready');
    assert.equal(ready.statusCode, 200, 'a loaded model is ready while another still loads');

    slow.release();
    await loading;
    assert.deepEqual((await get(service, '/v2/health/ready')).json(), { ready: true });
    assert.deepEqual((await get(service, '/v2/models/slow/ready')).json(), { name: 'slow', ready: true });
  });

  it('server readiness is 503 when a required model failed; model readiness and metadata say why', async (t) => {
    const service = await start(t, [IRIS_MODEL, FAILING]);
    await service.registry.loadAll();
    assertError(await get(service, '/v2/health/ready'), 503, "server is not ready: model 'failing' is failed");
    const response = await get(service, '/v2/models/failing/ready');
    assertError(response, 503, "model 'failing' failed to load: GPU out of memory");
    assert.equal(response.headers['retry-after'], undefined, 'no Retry-After for a failed model');
    assertError(await get(service, '/v2/models/failing/versions/0.0.1/ready'), 503, /failed to load: GPU out of memory/);
    assertError(await get(service, '/v2/models/failing'), 503, /failed to load: GPU out of memory/);
    assert.equal((await get(service, '/v2/health/live')).statusCode, 200, 'liveness does not depend on models');
  });

  it('a failed model with required: false does not hold server readiness back', async (t) => {
    const service = await start(t, [IRIS_MODEL, { ...FAILING, required: false }]);
    await service.registry.loadAll();
    assert.deepEqual((await get(service, '/v2/health/ready')).json(), { ready: true });
    assertError(await get(service, '/v2/models/failing/ready'), 503, /failed to load/);
  });

  it('server readiness is 503 with zero models (unless health.ready_without_models)', async (t) => {
    const service = await start(t, []);
    await service.registry.loadAll();
    assertError(await get(service, '/v2/health/ready'), 503, 'server is not ready: no models are configured');
    assertError(await get(service, '/v2/models/any/ready'), 404, "model 'any' not found; served models: none");

    const allowed = await start(t, [], { health: { ready_without_models: true } });
    await allowed.registry.loadAll();
    assert.deepEqual((await get(allowed, '/v2/health/ready')).json(), { ready: true });
  });

  it('server readiness is 503 once draining begins; models stay ready until unloaded', async (t) => {
    const service = await start(t, [IRIS_MODEL]);
    await service.registry.loadAll();
    assert.equal((await get(service, '/v2/health/ready')).statusCode, 200);
    service.registry.beginDrain();
    assertError(await get(service, '/v2/health/ready'), 503, 'server is not ready: the server is shutting down');
    assert.equal((await get(service, '/v2/models/iris_model/ready')).statusCode, 200);
    assert.equal((await get(service, '/v2/health/live')).statusCode, 200);
    await service.registry.unloadAll();
    assertError(await get(service, '/v2/models/iris_model/ready'), 503, "model 'iris_model' is unloaded: the server is shutting down");
  });

  it('an ONNX model has no tensor metadata until it is loaded (503, not an empty signature)', async (t) => {
    const service = await start(t, [IRIS_ONNX]);
    assertError(await get(service, '/v2/models/iris_onnx'), 503, /still loading/);
    await service.registry.loadAll();
    assert.deepEqual((await get(service, '/v2/models/iris_onnx')).json(), IRIS_ONNX_METADATA);
  });
});
