/**
 * The typed client's gRPC transport ({grpc: 'host:port'}): the Open Inference Protocol calls give the same results over
 * gRPC as over HTTP (typed contents and raw), and errors come back as LongshoreClientError with the matching status.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LongshoreClient, LongshoreClientError } from '../../src/client/index.ts';
import type { RunningServer } from '../../src/server.ts';
import { startServerFromFile } from '../helpers/server.js';
import { configYaml, fixture, writeConfig } from '../helpers/service.js';

const IRIS = fixture('../onnx/iris_logreg.onnx');
const ROWS = new Float32Array([5.1, 3.5, 1.4, 0.2, 7.0, 3.2, 4.7, 1.4, 6.3, 3.3, 6.0, 2.5]);

describe('LongshoreClient over gRPC', () => {
  let server: RunningServer;
  let http: LongshoreClient;
  let grpc: LongshoreClient;
  before(async () => {
    const models = [{ model_path: IRIS, qualified_name: 'iris' }, { class_path: fixture('echo.ts', 'EchoModel') }];
    server = await startServerFromFile(writeConfig(configYaml(models, { server: { grpc_port: 0 } })));
    http = new LongshoreClient(server.url);
    grpc = new LongshoreClient(server.url, { grpc: server.grpcUrl as string, timeoutMs: 10_000 });
  });
  after(async () => {
    grpc.close();
    await server.close();
  });

  it('answers the metadata and readiness calls as HTTP does', async () => {
    assert.deepEqual(await grpc.serverMetadata(), await http.serverMetadata());
    assert.equal(await grpc.serverReady(), true);
    assert.equal(await grpc.modelReady('iris'), true);
    assert.deepEqual(await grpc.modelMetadata('iris'), await http.modelMetadata('iris'));
  });

  it('infers with typed contents and with raw contents, giving what HTTP gives', async () => {
    const request = { id: 'r1', inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [3, 4], data: ROWS }] };
    const expected = await http.infer('iris', request);
    for (const binary of [false, true]) {
      const answer = await grpc.infer('iris', request, { binary });
      assert.equal(answer.id, 'r1');
      assert.equal(answer.model_name, 'iris');
      assert.deepEqual(answer.output('label', 'INT64').data, expected.output('label', 'INT64').data);
      assert.deepEqual(answer.output('probabilities', 'FP32').data, expected.output('probabilities', 'FP32').data);
    }
  });

  it('sends BYTES typed and raw', async () => {
    const request = {
      inputs: [
        { name: 'x', datatype: 'FP64' as const, shape: [2], data: [1.5, 2] },
        { name: 'name', datatype: 'BYTES' as const, shape: [2], data: ['Ada', 'Zoë'] },
      ],
    };
    for (const binary of [false, true]) {
      const answer = await grpc.infer('echo', request, { binary });
      assert.deepEqual(answer.output('greeting', 'BYTES').data, ['hello Ada', 'hello Zoë']);
      assert.deepEqual(Array.from(answer.output('doubled', 'FP64').data), [3, 4]);
    }
  });

  it('throws LongshoreClientError with the status that matches the gRPC code', async () => {
    await assert.rejects(grpc.modelReady('nope'), (error: unknown) => error instanceof LongshoreClientError && error.status === 404 && error.type === 'NOT_FOUND' && /nope/.test(error.message));
    const wrong = grpc.infer('iris', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
    await assert.rejects(wrong, (error: unknown) => error instanceof LongshoreClientError && error.status === 400 && error.type === 'INVALID_ARGUMENT');
  });
});
