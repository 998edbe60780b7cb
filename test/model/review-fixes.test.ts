/**
 * Bad input and misbehaving models stay contained: a model that throws both ways in one batch does not crash the
 * process, error details are capped, and V2 bodies are not decoded for models that cannot answer.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { checkOutput, indexedProblems, MAX_DETAILS } from '../../src/model/call-errors.ts';
import { buildService, configYaml, fixture, irisConfigYaml } from '../helpers/service.ts';

describe('a batch of records predicted one by one', () => {
  it('answers 500 when predict throws synchronously for one record and rejects later for another, and the process survives', async () => {
    const service = await buildService(configYaml([{ class_path: fixture('mixed-throw.ts', 'MixedThrowModel') }]));
    after(() => service.close());
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const response = await service.app.inject({ method: 'POST', url: '/api/models/mixed/predictions', payload: [{ x: 1 }, { x: -1 }] });
      assert.equal(response.statusCode, 500);
      assert.match(response.json<{ message: string }>().message, /negative x|late failure/);
      await new Promise((resolve) => setTimeout(resolve, 30)); // let the late rejection settle
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('error details are capped', () => {
  it(`returns at most ${MAX_DETAILS} details for a batch with thousands of bad records`, async () => {
    const service = await buildService(irisConfigYaml());
    after(() => service.close());
    const records = Array.from({ length: 5000 }, () => ({ sepal_length: 'x', sepal_width: 'y', petal_length: 1, petal_width: 1 }));
    const response = await service.app.inject({ method: 'POST', url: '/api/models/iris_model/predictions', payload: records });
    assert.equal(response.statusCode, 400);
    const body = response.json<{ details: { path: string }[]; message: string }>();
    assert.equal(body.details.length, MAX_DETAILS);
    assert.equal(body.details[0]?.path, '/0/sepal_length');
    assert.ok(response.body.length < 20_000, `response is ${response.body.length} bytes`);
  });

  it(`caps the details of outputs that break the output schema at ${MAX_DETAILS} too`, () => {
    // Two problems per output: the last output counted can take the list past the cap before indexedProblems stops.
    const problems = indexedProblems(Array.from({ length: 200 }, (_, index) => index), () => [
      { path: '/a', message: 'is required' },
      { path: '/b', message: 'is required' },
    ]);
    assert.ok(problems.length >= MAX_DETAILS);
    assert.throws(
      () => checkOutput('m', [...problems, { path: '/x', message: 'one more' }]),
      (error: { type: string; details: unknown[]; message: string }) =>
        error.type === 'InferenceError' && error.details.length === MAX_DETAILS && /model 'm' returned output that does not match its output schema/.test(error.message),
    );
  });
});

describe('V2 bodies for models that cannot answer', () => {
  it('answers 404 for an unknown model even when the body is malformed', async () => {
    const service = await buildService(irisConfigYaml());
    after(() => service.close());
    const response = await service.app.inject({ method: 'POST', url: '/v2/models/nope/infer', payload: '{"inputs": [', headers: { 'content-type': 'application/json' } });
    assert.equal(response.statusCode, 404);
    assert.match(response.json<{ error: string }>().error, /model 'nope' not found/);
  });

  it('answers 503 for a model that is still loading before reading its body', async () => {
    const service = await buildService(irisConfigYaml(), { load: false });
    after(() => service.close());
    const response = await service.app.inject({ method: 'POST', url: '/v2/models/iris_model/infer', payload: 'not json', headers: { 'content-type': 'application/json' } });
    assert.equal(response.statusCode, 503);
  });
});

describe('model lifecycle edges', () => {
  it('does not load a ready model again, and shares a load in progress', async () => {
    const service = await buildService(irisConfigYaml(), { load: false });
    after(() => service.close());
    const model = service.registry.require('iris_model');
    let loads = 0;
    const original = model.model.load?.bind(model.model);
    (model.model as { load?: () => Promise<void> }).load = async () => {
      loads++;
      await original?.();
    };
    await Promise.all([model.load(), model.load()]);
    assert.equal(model.state, 'ready');
    await model.load();
    assert.equal(loads, 1);
    assert.equal(model.state, 'ready');
  });

  it('answers 503, not 500, when the model is unloaded under a call in flight', async () => {
    const service = await buildService(irisConfigYaml());
    after(() => service.close());
    const model = service.registry.require('iris_model');
    (model.model as { predict: (input: unknown) => Promise<unknown> }).predict = async () => {
      await model.unload();
      throw new Error('weights are gone');
    };
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/models/iris_model/prediction',
      payload: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
    });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json<{ type: string }>().type, 'ModelNotReadyError');
  });
});
