/**
 * `workers: N` when things go wrong, over HTTP on 127.0.0.1:0: errors thrown in a worker keep the model's message (and a
 * longshore error its type), an output that cannot be cloned is a clear 500, a worker that dies fails only the calls it
 * was running and is replaced, and a load that fails in a worker marks the model failed with the worker's error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/service.ts';
import { serveModels, type WorkerService } from './harness.ts';

describe('workers: errors and crashes during predictions', { concurrency: false }, () => {
  let service: WorkerService;
  const predict = (body: unknown) => service.post('/api/models/crashy/prediction', body);

  before(async () => {
    service = await serveModels([{ class_path: fixture('crashy.ts', 'CrashyModel'), workers: 2 }]);
  });
  after(() => service.close());

  it("turns an error thrown in a worker into 500 InferenceError with the model's message", async () => {
    assert.deepEqual(await predict({ mode: 'throw', value: 3 }), {
      status: 500,
      body: { type: 'InferenceError', message: "model 'crashy' failed to predict: value 3 is out of range for this model", details: [] },
    });
    assert.deepEqual(await predict({ mode: 'reject' }), {
      status: 500,
      body: { type: 'InferenceError', message: "model 'crashy' failed to predict: the async part of the model failed", details: [] },
    });
  });

  it('keeps the type, status and details of a longshore error thrown in a worker', async () => {
    assert.deepEqual(await predict({ mode: 'validation', value: 3 }), {
      status: 400,
      body: { type: 'SchemaValidationError', message: 'value must be even', details: [{ path: '/value', message: 'must be even' }] },
    });
  });

  it('answers 500 with a clear message when the output cannot be passed back from the worker, and the worker lives on', async () => {
    const before = await predict({ mode: 'ok', value: 1 });
    const { status, body } = await predict({ mode: 'function' });
    assert.equal(status, 500);
    assert.equal(body.type, 'InferenceError');
    assert.match(
      String(body.message),
      /^model 'crashy' failed to predict: its output cannot be passed back from the worker thread: .*could not be cloned.*structured-cloneable/,
    );
    const afterwards = await predict({ mode: 'ok', value: 1 });
    assert.equal(afterwards.status, 200);
    const threads = new Set([before.body.thread, afterwards.body.thread]);
    assert.ok(threads.size <= 2, 'no worker was replaced');
  });

  it('fails only the call whose worker exits, while the other worker finishes its call; the next call succeeds', async () => {
    const slow = predict({ mode: 'slow', value: 4 }); // occupies one worker for 300 ms
    await new Promise((resolve) => setTimeout(resolve, 50));
    const crashed = await predict({ mode: 'exit' }); // runs on the other, idle worker
    assert.deepEqual(crashed, {
      status: 500,
      body: {
        type: 'InferenceError',
        message:
          "model 'crashy' failed to predict: the worker thread running this call died (worker exited with code: 3); a new worker thread replaces it and loads the model again",
        details: [],
      },
    });
    const survivor = await slow;
    assert.equal(survivor.status, 200);
    assert.equal(survivor.body.value, 40);

    const results = await Promise.all([predict({ mode: 'ok', value: 2 }), predict({ mode: 'ok', value: 5 })]);
    assert.deepEqual(
      results.map((result) => [result.status, result.body.value]),
      [
        [200, 20],
        [200, 50],
      ],
    );
    const health = await service.get('/api/models');
    assert.equal((health.body.models as { status: string }[])[0]?.status, 'ready');
  });

  it('fails the call whose worker dies of an uncaught error, then serves the next call on a replacement worker', async () => {
    const crashed = await predict({ mode: 'uncaught' });
    assert.equal(crashed.status, 500);
    assert.equal(crashed.body.type, 'InferenceError');
    assert.equal(
      crashed.body.message,
      "model 'crashy' failed to predict: the worker thread running this call died (the model crashed outside the call); a new worker thread replaces it and loads the model again",
    );
    const next = await predict({ mode: 'ok', value: 6 });
    assert.equal(next.status, 200);
    assert.equal(next.body.value, 60);
  });

  it('replaces a dead worker with a new thread (one worker: the thread id changes)', async () => {
    const single = await serveModels([{ class_path: fixture('crashy.ts', 'CrashyModel'), workers: 1 }]);
    try {
      const first = await single.post('/api/models/crashy/prediction', { mode: 'ok', value: 1 });
      assert.equal(first.status, 200);
      assert.equal((await single.post('/api/models/crashy/prediction', { mode: 'exit' })).status, 500);
      const second = await single.post('/api/models/crashy/prediction', { mode: 'ok', value: 1 });
      assert.equal(second.status, 200);
      assert.equal(second.body.value, 10);
      assert.equal(typeof first.body.thread, 'number');
      assert.notEqual(second.body.thread, first.body.thread);
    } finally {
      await single.close();
    }
  });
});

describe('workers: load failures', () => {
  it("marks the model failed with the worker's error in GET /api/models, and keeps serving the others", async (t) => {
    const service = await serveModels([
      { class_path: fixture('failing-load.ts', 'FailingLoadModel'), workers: 2, configuration: { message: 'weights are truncated' } },
      { class_path: fixture('echo.ts', 'EchoModel') },
    ]);
    t.after(() => service.close());
    const { body } = await service.get('/api/models');
    const [failing, echo] = body.models as { qualified_name: string; status: string; error?: string }[];
    assert.deepEqual(failing && [failing.qualified_name, failing.status, failing.error], [
      'failing',
      'failed',
      "model 'failing' failed to load in a worker thread: weights are truncated",
    ]);
    assert.equal(echo?.status, 'ready');
    const refused = await service.post('/api/models/failing/prediction', {});
    assert.equal(refused.status, 503);
    assert.equal(refused.body.type, 'ModelNotReadyError');
    assert.match(String(refused.body.message), /weights are truncated/);
    assert.deepEqual(await service.post('/api/models/echo/prediction', { x: 2, name: 'pool' }), { status: 200, body: { doubled: 4, greeting: 'hello pool' } });
  });

  it('marks the model failed when a worker thread exits during load(), instead of restarting it forever', async (t) => {
    const service = await serveModels([{ class_path: fixture('worker-lifecycle.ts', 'ExitOnLoadModel'), workers: 2 }]);
    t.after(() => service.close());
    const { body } = await service.get('/api/models');
    const [model] = body.models as { status: string; error?: string }[];
    assert.equal(model?.status, 'failed');
    assert.equal(model?.error, "model 'exit_on_load' failed to load: a worker thread exited with code 7 while loading the model");
  });
});
