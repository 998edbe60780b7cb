/**
 * model/served-model.ts: the state machine of one model (loading → ready | failed → unloading → unloaded) and the
 * guarded calls that validate input and output around the user's code.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferenceError, ModelNotReadyError, SchemaValidationError } from '../../src/errors.ts';
import type { JsonSchema, Model } from '../../src/model/contract.ts';
import { LOADING_RETRY_AFTER_SECONDS } from '../../src/model/call-errors.ts';
import { ServedModel } from '../../src/model/served-model.ts';
import { BatchModel } from '../fixtures/code-models/batch.ts';
import { EchoModel } from '../fixtures/code-models/echo.ts';
import { FailingLoadModel } from '../fixtures/code-models/failing-load.ts';
import { LateSchemaModel } from '../fixtures/code-models/late-schema.ts';
import { SlowModel } from '../fixtures/code-models/slow.ts';
import { captureLogger, silentLogger } from '../helpers/service.ts';

function serve(model: Model, options: { onStateChange?: () => void; logger?: ReturnType<typeof silentLogger> } = {}): ServedModel {
  const served = new ServedModel(model, {
    metadata: { qualified_name: model.qualified_name ?? 'model', display_name: model.display_name ?? '', description: model.description ?? '', version: model.version ?? '1' },
    createEndpoint: true,
    required: true,
    logger: options.logger ?? silentLogger(),
  });
  if (options.onStateChange) served.onStateChange(options.onStateChange);
  return served;
}

/** A call as the dataplane makes it: the ready model's call path (503 as a rejection when it is not ready). */
async function predict(served: ServedModel, input: unknown): Promise<unknown> {
  return served.ready().predict(input, {});
}

async function predictBatch(served: ServedModel, inputs: unknown[]): Promise<unknown[]> {
  return served.ready().predictBatch(inputs, {});
}

/** Rejects with the error `promise` rejects with, asserting it is an instance of `type`. */
async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected a ${type.name}`);
}

describe('ServedModel lifecycle', () => {
  it('starts in loading and refuses predictions with a Retry-After hint', async () => {
    const served = serve(new EchoModel({}));
    assert.equal(served.state, 'loading');
    const error = await rejection(predict(served, { x: 1, name: 'a' }), ModelNotReadyError);
    assert.equal(error.retryAfterSeconds, LOADING_RETRY_AFTER_SECONDS);
    assert.equal(error.status, 503);
    assert.match(error.message, /still loading/);
  });

  it('becomes ready after load() and reports each state change', async () => {
    let changes = 0;
    const served = serve(new EchoModel({}), { onStateChange: () => changes++ });
    await served.load();
    assert.equal(served.state, 'ready');
    assert.ok(changes >= 1);
    assert.deepEqual(served.listing(), { qualified_name: 'echo', display_name: 'Echo', description: 'Doubles x and greets name.', version: '2.1.0', status: 'ready' });
  });

  it('stays loading until an asynchronous load() finishes', async () => {
    const model = new SlowModel({});
    const served = serve(model);
    const loading = served.load();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(served.state, 'loading');
    model.release();
    await loading;
    assert.equal(served.state, 'ready');
    assert.deepEqual(await predict(served, { value: 41 }), { value: 42 });
  });

  it('moves to failed when load() throws, keeps the reason, and logs it', async () => {
    const { logger, lines } = captureLogger();
    const served = serve(new FailingLoadModel({ message: 'no weights at /w.bin' }), { logger });
    await served.load();
    assert.equal(served.state, 'failed');
    assert.equal(served.error, 'no weights at /w.bin');
    assert.equal(served.listing().error, 'no weights at /w.bin');
    assert.equal(served.listing().status, 'failed');
    const logged = lines.find((line) => line.msg === 'model failed to load');
    assert.ok(logged, 'the failure is logged');
    assert.equal(logged.level, 50);
    assert.equal(logged.model, 'failing');
    assert.match(String((logged.err as { message?: string }).message), /no weights at \/w\.bin/);
  });

  it('refuses predictions of a failed model with the load error and no Retry-After', async () => {
    const served = serve(new FailingLoadModel({ message: 'no weights' }));
    await served.load();
    const error = await rejection(predict(served, {}), ModelNotReadyError);
    assert.equal(error.message, "model 'failing' failed to load: no weights");
    assert.equal(error.retryAfterSeconds, undefined);
  });

  it('fails a model that still has no schemas after load()', async () => {
    const model = new LateSchemaModel();
    model.load = () => {};
    const served = serve(model);
    await served.load();
    assert.equal(served.state, 'failed');
    assert.match(served.error ?? '', /no input_schema or output_schema after load/);
  });

  it('picks up schemas that appear only after load()', async () => {
    const served = serve(new LateSchemaModel());
    assert.equal(served.inputSchema, undefined);
    await served.load();
    assert.equal(served.state, 'ready');
    assert.deepEqual(served.inputSchema, { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] });
    await rejection(predict(served, {}), SchemaValidationError);
    assert.deepEqual(await predict(served, { q: 'why' }), { answer: 'you asked why' });
  });

  it('accepts new schema objects after load() that keep the same $id', async () => {
    const model: Model & { input_schema: JsonSchema } = {
      qualified_name: 'ids',
      display_name: 'ids',
      description: '',
      version: '1',
      input_schema: { $id: 'ids-input', type: 'object' },
      output_schema: { type: 'object' },
      load() {
        this.input_schema = { $id: 'ids-input', type: 'object', required: ['a'] };
      },
      predict: (input: unknown) => input,
    };
    const served = serve(model);
    await served.load();
    assert.equal(served.state, 'ready', `load failed: ${served.error ?? ''}`);
    await rejection(predict(served, {}), SchemaValidationError);
  });

  it('throws at construction when a schema is not a JSON Schema object', () => {
    const model = new EchoModel({});
    (model as { input_schema: unknown }).input_schema = [{ type: 'object' }];
    assert.throws(() => serve(model), /input_schema of model 'echo' must be a JSON Schema object, got an array/);
  });

  it('unloads once, then refuses predictions as shutting down', async () => {
    const model = new EchoModel({});
    let unloads = 0;
    model.unload = () => {
      unloads++;
    };
    const served = serve(model);
    await served.load();
    await served.unload();
    await served.unload();
    assert.equal(served.state, 'unloaded');
    assert.equal(unloads, 1);
    const error = await rejection(predict(served, { x: 1, name: 'a' }), ModelNotReadyError);
    assert.match(error.message, /shutting down/);
  });

  it('releases a model whose load() finishes after shutdown unloaded it, and keeps it unloaded', async () => {
    const model = new SlowModel({});
    let unloads = 0;
    (model as SlowModel & { unload(): void }).unload = () => {
      unloads++;
    };
    const served = serve(model);
    const loading = served.load();
    await served.unload();
    assert.equal(served.state, 'unloaded');
    model.release();
    await loading;
    assert.equal(served.state, 'unloaded');
    assert.equal(unloads, 2, 'unload() runs again for what the late load acquired');
    await rejection(predict(served, { value: 1 }), ModelNotReadyError);
  });

  it('keeps a model unloaded when its load() fails after shutdown unloaded it', async () => {
    const model = new SlowModel({});
    const served = serve(model);
    const loading = served.load();
    await served.unload();
    model.fail(new Error('interrupted'));
    await loading;
    assert.equal(served.state, 'unloaded');
    assert.equal(served.error, undefined);
  });

  it('completes unload even when the model’s unload() throws', async () => {
    const model = new EchoModel({});
    model.unload = () => {
      throw new Error('cannot free');
    };
    const served = serve(model);
    await served.load();
    await served.unload();
    assert.equal(served.state, 'unloaded');
  });
});

describe('ServedModel.predict', () => {
  it('validates the input and returns the output', async () => {
    const served = serve(new EchoModel({ greeting: 'hi' }));
    await served.load();
    assert.deepEqual(await predict(served, { x: 2.5, name: 'Ada' }), { doubled: 5, greeting: 'hi Ada' });
  });

  it('rejects invalid input with every failing field, without calling the model', async () => {
    const model = new EchoModel({});
    let calls = 0;
    const original = model.predict.bind(model);
    model.predict = (input) => {
      calls++;
      return original(input);
    };
    const served = serve(model);
    await served.load();
    const error = await rejection(predict(served, { x: 'one', extra: 1 }), SchemaValidationError);
    assert.deepEqual(new Set(error.details.map((d) => d.path)), new Set(['/x', '/name', '/extra']));
    assert.equal(calls, 0);
  });

  it('wraps an exception of the model in InferenceError with the cause kept', async () => {
    const model = new EchoModel({});
    const boom = new Error('boom');
    model.predict = () => {
      throw boom;
    };
    const served = serve(model);
    await served.load();
    const error = await rejection(predict(served, { x: 1, name: 'a' }), InferenceError);
    assert.equal(error.message, "model 'echo' failed to predict: boom");
    assert.equal(error.cause, boom);
  });

  it('keeps the type of a client error the model throws itself', async () => {
    const model = new EchoModel({});
    model.predict = () => {
      throw new SchemaValidationError('rows must all have the same length', { details: [{ path: '/x', message: 'ragged' }] });
    };
    const served = serve(model);
    await served.load();
    const error = await rejection(predict(served, { x: 1, name: 'a' }), SchemaValidationError);
    assert.deepEqual(error.details, [{ path: '/x', message: 'ragged' }]);
  });

  it('rejects output that fails the output schema with InferenceError naming the fields', async () => {
    const model = new EchoModel({});
    model.predict = () => ({ doubled: 'two' }) as never;
    const served = serve(model);
    await served.load();
    const error = await rejection(predict(served, { x: 1, name: 'a' }), InferenceError);
    assert.deepEqual(new Set(error.details.map((d) => d.path)), new Set(['/doubled', '/greeting']));
    assert.match(error.message, /does not match its output schema/);
  });
});

describe('ServedModel.predictBatch', () => {
  it('uses predictBatch once when the model has it, keeping order', async () => {
    const model = new BatchModel();
    const served = serve(model);
    await served.load();
    const outputs = await predictBatch(served, [{ n: 3 }, { n: 1 }, { n: 2 }]);
    assert.deepEqual(outputs, [
      { square: 9, via: 'predictBatch' },
      { square: 1, via: 'predictBatch' },
      { square: 4, via: 'predictBatch' },
    ]);
    assert.deepEqual(model.batchSizes, [3]);
    assert.equal(model.predictCalls, 0);
  });

  it('calls predict per record when the model has no predictBatch', async () => {
    const served = serve(new EchoModel({}));
    await served.load();
    assert.deepEqual(await predictBatch(served, [{ x: 1, name: 'a' }, { x: 2, name: 'b' }]), [
      { doubled: 2, greeting: 'hello a' },
      { doubled: 4, greeting: 'hello b' },
    ]);
  });

  it('reports every failing record by index', async () => {
    const served = serve(new BatchModel());
    await served.load();
    const error = await rejection(predictBatch(served, [{ n: 1 }, { n: 'x' }, {}, 7]), SchemaValidationError);
    assert.deepEqual(error.details, [
      { path: '/1/n', message: 'must be number' },
      { path: '/2/n', message: 'is required' },
      { path: '/3', message: 'must be object' },
    ]);
  });

  it('rejects a batch result of the wrong length with InferenceError', async () => {
    const model = new BatchModel();
    model.predictBatch = async () => [];
    const served = serve(model);
    await served.load();
    const error = await rejection(predictBatch(served, [{ n: 1 }]), InferenceError);
    assert.match(error.message, /returned 0 outputs for a batch of 1 inputs/);
  });

  it('reports invalid batch outputs by index, with the same path style as inputs', async () => {
    const model = new BatchModel();
    model.predictBatch = async (inputs) => inputs.map((input, i) => (i === 1 ? (7 as never) : { square: input.n, via: 'predictBatch' as const }));
    const served = serve(model);
    await served.load();
    const error = await rejection(predictBatch(served, [{ n: 1 }, { n: 2 }]), InferenceError);
    assert.deepEqual(error.details, [{ path: '/1', message: 'must be object' }]);
  });
});
