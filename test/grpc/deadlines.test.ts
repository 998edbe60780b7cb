/**
 * Deadlines and cancellation over gRPC: the gRPC deadline is the request's deadline (with parameters.timeout and the
 * model's timeout_ms, the shortest wins), a call queued past it is dropped unrun, and a call its client cancels while
 * queued is dropped unrun (counted as cancelled), as over REST.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DelayedPredictModel } from '../fixtures/code-models/delayed-predict.ts';
import { fixture } from '../helpers/service.ts';
import { rejected, serve, waitFor, type Served } from '../batching-http/http-harness.ts';
import { assertStatus, inferClient, status, type InferClient } from './grpc-helpers.ts';

const CLASS_PATH = fixture('delayed-predict.ts', 'DelayedPredictModel');
const value = (v: number, model = 'single') => ({ model_name: model, inputs: [{ name: 'value', datatype: 'FP64', shape: [1], contents: { fp64_contents: [v] } }] });

describe('gRPC deadlines and cancellation', () => {
  let served: Served;
  let client: InferClient;
  const single = () => served.registry.require('single').model as unknown as DelayedPredictModel;

  before(async () => {
    served = await serve(
      'server:\n  grpc_port: 0\nmodels:\n' +
        `  - class_path: ${CLASS_PATH}\n    qualified_name: single\n    max_concurrency: 1\n    timeout_ms: 0\n    configuration: {delay_ms: 300}\n` +
        `  - class_path: ${CLASS_PATH}\n    qualified_name: short\n    timeout_ms: 100\n    configuration: {delay_ms: 400}\n`,
    );
    client = inferClient(served.server.grpcUrl as string);
  });
  after(async () => {
    client.close();
    await served.close();
  });

  it('answers within a deadline that leaves time', async () => {
    const response = await client.call<{ outputs: { contents: { fp64_contents: number[] } }[] }>('ModelInfer', value(1), { deadlineMs: 5000 });
    assert.deepEqual(response.outputs[0]?.contents.fp64_contents, [2]);
  });

  it('a call queued past its gRPC deadline ends DEADLINE_EXCEEDED and never runs', async () => {
    const seenBefore = single().seen.length;
    const deadlinesBefore = await rejected(served.service, 'single', 'deadline');
    const first = client.call('ModelInfer', value(10));
    await waitFor(() => single().seen.length === seenBefore + 1, 2000, 'the first call to start');
    const started = Date.now();
    await assertStatus(client.call('ModelInfer', value(20), { deadlineMs: 100 }), status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 280, 'ended at its deadline, not after the running call');
    await first;
    await waitFor(async () => (await rejected(served.service, 'single', 'deadline')) === deadlinesBefore + 1, 2000, 'the server to drop it');
    assert.deepEqual(single().seen.slice(seenBefore), [10], 'the model never ran the late call');
  });

  it('parameters.timeout (microseconds) is a deadline too, answered by the server with its message', async () => {
    const first = client.call('ModelInfer', value(30));
    await assertStatus(
      client.call('ModelInfer', { ...value(40), parameters: { timeout: { int64_param: 100_000 } } }),
      status.DEADLINE_EXCEEDED,
      /deadline of 100 ms passed/,
      'DeadlineExceededError',
    );
    await first;
  });

  it("the model's timeout_ms applies to gRPC calls as to REST ones", async () => {
    await assertStatus(client.call('ModelInfer', value(1, 'short'), { deadlineMs: 5000 }), status.DEADLINE_EXCEEDED, /deadline of 100 ms/, 'DeadlineExceededError');
  });

  it('a queued call the client cancels is dropped: the model never runs it', async () => {
    const seenBefore = single().seen.length;
    const cancelledBefore = await rejected(served.service, 'single', 'cancelled');
    const first = client.call('ModelInfer', value(100));
    await waitFor(() => single().seen.length === seenBefore + 1, 2000, 'the first call to start');
    const second = client.start('ModelInfer', value(200));
    await new Promise((resolve) => setTimeout(resolve, 50));
    second.cancel();
    await assertStatus(second.done, status.CANCELLED);
    await waitFor(async () => (await rejected(served.service, 'single', 'cancelled')) === cancelledBefore + 1, 2000, 'the cancellation to be counted');
    await first;
    assert.deepEqual(single().seen.slice(seenBefore), [100], 'the model never saw the cancelled call');
  });
});
