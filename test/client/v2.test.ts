/** The client's Open Inference Protocol (V2) calls against a real server: metadata, readiness, and infer in JSON and binary. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InferResponse, LongshoreClient, LongshoreClientError, type InferOptions, type InferRequest } from '../../src/client/index.ts';
import type { RunningServer } from '../../src/server.ts';
import { IRIS_ROWS, startExampleServer } from './example-server.ts';

/** The four ways to send inputs and receive outputs. */
const COMBINATIONS: { label: string; options: InferOptions }[] = [
  { label: 'JSON in, JSON out', options: {} },
  { label: 'binary in, JSON out', options: { binary: true } },
  { label: 'JSON in, binary out', options: { binaryOutputs: true } },
  { label: 'binary in, binary out', options: { binary: true, binaryOutputs: true } },
];

const IRIS_ONNX_REQUEST: InferRequest = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: new Float32Array(IRIS_ROWS.flat()) }],
};

const TOPIC_REQUEST: InferRequest = {
  inputs: [{ name: 'input', datatype: 'BYTES', shape: [2, 1], data: ['the team won the match', 'rain and wind tomorrow'] }],
};

const IRIS_COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;

/** The TypeScript iris model takes one FP64 column per record field. */
const IRIS_MODEL_REQUEST: InferRequest = {
  inputs: IRIS_COLUMNS.map((name, column) => ({ name, datatype: 'FP64', shape: [2], data: new Float64Array(IRIS_ROWS.map((row) => row[column] as number)) })),
};

/** The outputs as plain values, to compare responses received in different forms. */
function plain(response: InferResponse): unknown {
  return { ...response, outputs: response.outputs.map((output) => ({ ...output, data: Array.from(output.data as ArrayLike<unknown>) })) };
}

describe('LongshoreClient Open Inference Protocol', () => {
  let server: RunningServer;
  let client: LongshoreClient;

  before(async () => {
    server = await startExampleServer();
    client = new LongshoreClient(`${server.url}/`, { timeoutMs: 10_000 });
  });
  after(() => server.close());

  describe('metadata and readiness', () => {
    it('serverMetadata() names the server and the binary extension', async () => {
      assert.deepEqual(await client.serverMetadata(), { name: 'longshore', version: '0.1.0', extensions: ['binary_tensor_data'] });
    });

    it('serverReady() is true once every model is loaded', async () => {
      assert.equal(await client.serverReady(), true);
    });

    it('modelReady() is true for a loaded model, at its version too', async () => {
      assert.equal(await client.modelReady('topic'), true);
      assert.equal(await client.modelReady('iris_model', '1.0.0'), true);
    });

    it('modelReady() of an unknown model or version throws a 404 with the server message', async () => {
      await assert.rejects(client.modelReady('nope'), { name: 'LongshoreClientError', status: 404, message: "model 'nope' not found; served models: iris_model, iris_onnx, topic, iris_onnx_named, iris_ab, topic_text, sentiment, entities, embeddings" });
      await assert.rejects(client.modelReady('topic', '9'), { status: 404, message: "model 'topic' has no version '9'; its versions: 1" });
    });

    it('modelMetadata() gives the ONNX signature', async () => {
      assert.deepEqual(await client.modelMetadata('iris_onnx'), {
        name: 'iris_onnx',
        versions: ['1'],
        platform: 'onnx_onnxv1',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [
          { name: 'label', datatype: 'INT64', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        ],
      });
    });

    it('modelMetadata() gives the columns of a TypeScript model, at its version too', async () => {
      const metadata = await client.modelMetadata('iris_model', '1.0.0');
      assert.equal(metadata.platform, 'longshore_records');
      assert.deepEqual(
        metadata.inputs.map((input) => [input.name, input.datatype, input.shape]),
        IRIS_COLUMNS.map((name) => [name, 'FP64', [-1]]),
      );
      assert.deepEqual(
        metadata.outputs.map((output) => [output.name, output.datatype, output.shape]),
        [
          ['species', 'BYTES', [-1]],
          ['label', 'INT64', [-1]],
          ['probabilities', 'FP64', [-1, 3]],
        ],
      );
    });
  });

  describe('infer on iris_onnx (FP32 in; INT64 and FP32 out)', () => {
    const responses = new Map<string, InferResponse>();
    for (const { label, options } of COMBINATIONS) {
      it(`${label}: labels 0 and 1, outputs in typed arrays`, async () => {
        const response = await client.infer('iris_onnx', IRIS_ONNX_REQUEST, options);
        responses.set(label, response);
        assert.ok(response instanceof InferResponse);
        assert.equal(response.model_name, 'iris_onnx');
        assert.equal(response.model_version, '1');
        assert.equal(response.id, undefined);
        const labels = response.output('label', 'INT64');
        assert.ok(labels.data instanceof BigInt64Array);
        assert.deepEqual(labels.shape, [2]);
        assert.deepEqual(Array.from(labels.data), [0n, 1n]);
        const probabilities = response.output('probabilities', 'FP32');
        assert.ok(probabilities.data instanceof Float32Array);
        assert.deepEqual(probabilities.shape, [2, 3]);
        for (let row = 0; row < 2; row++) {
          const sum = probabilities.data.slice(row * 3, row * 3 + 3).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) < 1e-5, `row ${row} sums to ${sum}`);
        }
      });
    }

    it('all four combinations give identical outputs', () => {
      assert.equal(responses.size, 4);
      const [first, ...rest] = [...responses.values()].map(plain);
      for (const other of rest) assert.deepEqual(other, first);
    });

    it('plain nested arrays and other typed arrays are converted to FP32', async () => {
      const expected = plain(await client.infer('iris_onnx', IRIS_ONNX_REQUEST));
      for (const data of [IRIS_ROWS.map((row) => [...row]), new Float64Array(IRIS_ROWS.flat())]) {
        for (const binary of [false, true]) {
          const response = await client.infer('iris_onnx', { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data }] }, { binary });
          assert.deepEqual(plain(response), expected);
        }
      }
    });

    it('picks outputs by name and echoes the id', async () => {
      for (const { options } of COMBINATIONS) {
        const response = await client.infer('iris_onnx', { ...IRIS_ONNX_REQUEST, id: 'req-7', outputs: ['probabilities'] }, options);
        assert.equal(response.id, 'req-7');
        assert.deepEqual(
          response.outputs.map((output) => output.name),
          ['probabilities'],
        );
        assert.throws(() => response.output('label'), { name: 'RangeError', message: "model 'iris_onnx' returned no output 'label'; it returned: probabilities" });
        assert.throws(() => response.output('probabilities', 'FP64'), { name: 'TypeError', message: "output 'probabilities' is FP32, not FP64" });
      }
    });

    it('calls a version by name', async () => {
      const response = await client.infer('iris_onnx', IRIS_ONNX_REQUEST, { version: '1', binary: true });
      assert.deepEqual(Array.from(response.output('label', 'INT64').data), [0n, 1n]);
    });
  });

  describe('infer on topic (BYTES in)', () => {
    const responses: InferResponse[] = [];
    for (const { label, options } of COMBINATIONS) {
      it(`${label}: sports, then weather`, async () => {
        const response = await client.infer('topic', TOPIC_REQUEST, options);
        responses.push(response);
        assert.equal(response.model_name, 'topic');
        assert.deepEqual(Array.from(response.output('label', 'INT64').data), [0n, 1n]);
        assert.deepEqual(response.output('probabilities').shape, [2, 3]);
      });
    }

    it('all four combinations give identical outputs', () => {
      assert.equal(responses.length, 4);
      const [first, ...rest] = responses.map(plain);
      for (const other of rest) assert.deepEqual(other, first);
    });

    it('non-ASCII text travels as UTF-8 in JSON and binary', async () => {
      const request: InferRequest = { inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 1], data: [['Le match de football était génial ⚽']] }] };
      const json = await client.infer('topic', request);
      const binary = await client.infer('topic', request, { binary: true, binaryOutputs: true });
      assert.deepEqual(plain(binary), plain(json));
    });
  });

  describe('infer on iris_model (a TypeScript model through V2 columns)', () => {
    const responses: InferResponse[] = [];
    for (const { label, options } of COMBINATIONS) {
      it(`${label}: species, labels and probabilities per row`, async () => {
        const response = await client.infer('iris_model', IRIS_MODEL_REQUEST, options);
        responses.push(response);
        assert.equal(response.model_name, 'iris_model');
        assert.equal(response.model_version, '1.0.0');
        assert.deepEqual(response.output('species', 'BYTES').data, ['setosa', 'versicolor']);
        assert.deepEqual(Array.from(response.output('label', 'INT64').data), [0n, 1n]);
        const probabilities = response.output('probabilities', 'FP64');
        assert.ok(probabilities.data instanceof Float64Array);
        assert.deepEqual(probabilities.shape, [2, 3]);
      });
    }

    it('all four combinations give identical outputs, equal to REST predict', async () => {
      assert.equal(responses.length, 4);
      const [first, ...rest] = responses.map(plain);
      for (const other of rest) assert.deepEqual(other, first);
      const rest0 = await client.predict<{ probabilities: number[] }>('iris_model', Object.fromEntries(IRIS_COLUMNS.map((name, column) => [name, IRIS_ROWS[0][column]])));
      assert.deepEqual(Array.from(responses[0]?.output('probabilities', 'FP64').data.slice(0, 3) ?? []), rest0.probabilities);
    });
  });

  describe('errors', () => {
    it('an unknown model is a 404 with the server message and a request id', async () => {
      for (const { options } of COMBINATIONS) {
        const error = await client.infer('nope', IRIS_ONNX_REQUEST, options).then(
          () => assert.fail('expected an error'),
          (caught: unknown) => caught,
        );
        assert.ok(error instanceof LongshoreClientError);
        assert.equal(error.status, 404);
        assert.equal(error.message, "model 'nope' not found; served models: iris_model, iris_onnx, topic, iris_onnx_named, iris_ab, topic_text, sentiment, entities, embeddings");
        assert.equal(error.type, undefined);
        assert.match(error.requestId ?? '', /^[0-9a-f-]{36}$/);
        assert.equal(error.method, 'POST');
        assert.equal(error.url, `${server.url}/v2/models/nope/infer`);
      }
    });

    it('an unknown version is a 404', async () => {
      await assert.rejects(client.infer('iris_onnx', IRIS_ONNX_REQUEST, { version: '9' }), { status: 404, message: "model 'iris_onnx' has no version '9'; its versions: 1" });
    });

    it('a shape the model does not take is a 400, in JSON and binary', async () => {
      const request: InferRequest = { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], data: new Float32Array(6) }] };
      for (const binary of [false, true]) {
        await assert.rejects(client.infer('iris_onnx', request, { binary }), (error: unknown) => {
          assert.ok(error instanceof LongshoreClientError);
          assert.equal(error.status, 400);
          assert.equal(error.message, "input 'input': expected FP32 [-1,4], got FP32 [2,3]");
          assert.ok(error.requestId);
          return true;
        });
      }
    });

    it('data that does not fill the shape is a 400 with the server message', async () => {
      const request: InferRequest = { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: new Float32Array(6) }] };
      await assert.rejects(client.infer('iris_onnx', request), { status: 400, message: "input 'input': shape [2,4] needs 8 elements, data has 6" });
      await assert.rejects(client.infer('iris_onnx', request, { binary: true }), { status: 400, message: "input 'input': FP32 [2,4] needs 32 bytes of binary data, got 24" });
    });

    it('an unknown output is a 400', async () => {
      await assert.rejects(client.infer('iris_onnx', { ...IRIS_ONNX_REQUEST, outputs: ['nope'] }), { status: 400, message: "unknown output 'nope'; model 'iris_onnx' returns: label, probabilities" });
    });

    it('the request id sent in the headers option comes back on the error', async () => {
      const traced = new LongshoreClient(server.url, { headers: { 'x-request-id': 'trace-42' } });
      await assert.rejects(traced.infer('nope', IRIS_ONNX_REQUEST, { binary: true }), { status: 404, requestId: 'trace-42' });
    });
  });
});
