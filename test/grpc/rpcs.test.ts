/**
 * inference.GRPCInferenceService through a real grpc-js client: every RPC, typed contents and raw_input_contents for
 * the ONNX fixtures (compared with their .json references) and for a code model, and the server's lifecycle (the port
 * is off unless configured, grpcUrl, close()).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFixture } from '../runtimes/onnx-harness.ts';
import { FIXTURES, serve, type Served } from '../batching-http/http-harness.ts';
import { fixture } from '../helpers/service.ts';
import { assertClose, fp32Bytes, inferClient, outputValues, type InferClient, type InferResponseMessage } from './grpc-helpers.ts';

const IRIS = readFixture('iris_logreg');
const HEAVY = readFixture('mlp_heavy');
const IRIS_INPUT = IRIS.inputs.input?.data as number[];

describe('gRPC inference service', () => {
  let served: Served;
  let client: InferClient;

  before(async () => {
    served = await serve(
      'server:\n  grpc_port: 0\n' +
        'models:\n' +
        `  - model_path: ${FIXTURES}iris_logreg.onnx\n` +
        `  - model_path: ${FIXTURES}mlp_heavy.onnx\n` +
        `  - class_path: ${fixture('echo.ts', 'EchoModel')}\n    qualified_name: echo\n`,
    );
    assert.match(served.server.grpcUrl ?? '', /^127\.0\.0\.1:\d+$/);
    client = inferClient(served.server.grpcUrl as string);
  });
  after(async () => {
    client.close();
    await served.close();
  });

  it('ServerLive, ServerReady and ServerMetadata answer as GET /v2 and its health routes do', async () => {
    assert.deepEqual(await client.call('ServerLive'), { live: true });
    assert.deepEqual(await client.call('ServerReady'), { ready: true });
    const metadata = await client.call('ServerMetadata');
    const rest = (await (await fetch(`${served.url}/v2`)).json()) as Record<string, unknown>;
    assert.deepEqual(metadata, rest);
  });

  it('ModelReady is true for a ready model, at its version too', async () => {
    assert.deepEqual(await client.call('ModelReady', { name: 'iris_logreg' }), { ready: true });
    const version = served.registry.get('iris_logreg')?.version as string;
    assert.deepEqual(await client.call('ModelReady', { name: 'iris_logreg', version }), { ready: true });
  });

  it('ModelMetadata gives the tensors of GET /v2/models/{name}', async () => {
    const metadata = await client.call<Record<string, unknown>>('ModelMetadata', { name: 'iris_logreg' });
    const rest = (await (await fetch(`${served.url}/v2/models/iris_logreg`)).json()) as Record<string, unknown>;
    const numeric = (tensors: { name: string; datatype: string; shape: string[] }[]) => tensors.map((t) => ({ ...t, shape: t.shape.map(Number) }));
    assert.deepEqual(
      { ...metadata, inputs: numeric(metadata.inputs as never), outputs: numeric(metadata.outputs as never) },
      { ...rest, properties: {} },
    );
  });

  it('ModelInfer with typed contents answers the reference of iris_logreg, typed', async () => {
    const response = await client.call<InferResponseMessage>('ModelInfer', {
      model_name: 'iris_logreg',
      id: 'req-1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [5, 4], contents: { fp32_contents: IRIS_INPUT } }],
    });
    assert.equal(response.model_name, 'iris_logreg');
    assert.equal(response.id, 'req-1');
    assert.deepEqual(response.raw_output_contents, []);
    const label = response.outputs.find((output) => output.name === 'label');
    assert.deepEqual(label?.contents?.int64_contents, ['0', '1', '2', '0', '2']);
    const probabilities = outputValues(response, 'probabilities');
    assert.deepEqual(probabilities.shape, [5, 3]);
    assertClose(probabilities.values, IRIS.outputs.probabilities?.data as number[], 'probabilities');
  });

  it('ModelInfer with raw_input_contents answers in raw_output_contents, and honours the requested outputs', async () => {
    const response = await client.call<InferResponseMessage>('ModelInfer', {
      model_name: 'iris_logreg',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [5, 4] }],
      outputs: [{ name: 'probabilities' }],
      raw_input_contents: [fp32Bytes(IRIS_INPUT)],
    });
    assert.deepEqual(response.outputs.map((output) => output.name), ['probabilities']);
    assert.equal(response.raw_output_contents.length, 1);
    assert.equal(response.outputs[0]?.contents, null);
    assertClose(outputValues(response, 'probabilities').values, IRIS.outputs.probabilities?.data as number[], 'probabilities');
  });

  for (const form of ['typed', 'raw'] as const) {
    it(`ModelInfer on mlp_heavy (${form}) matches its reference`, async () => {
      const x = HEAVY.inputs.x as { shape: number[]; data: number[] };
      const response = await client.call<InferResponseMessage>('ModelInfer', {
        model_name: 'mlp_heavy',
        inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape, ...(form === 'typed' ? { contents: { fp32_contents: x.data } } : {}) }],
        raw_input_contents: form === 'raw' ? [fp32Bytes(x.data)] : [],
      });
      for (const [name, expected] of Object.entries(HEAVY.outputs)) {
        const actual = outputValues(response, name);
        assert.deepEqual(actual.shape, expected.shape);
        assertClose(actual.values, expected.data as number[], name);
      }
    });
  }

  it('ModelInfer on a code model: record columns in typed contents, BYTES in and out', async () => {
    const response = await client.call<InferResponseMessage>('ModelInfer', {
      model_name: 'echo',
      inputs: [
        { name: 'x', datatype: 'FP64', shape: [2], contents: { fp64_contents: [1.5, -2] } },
        { name: 'name', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [Buffer.from('ada'), Buffer.from('zoë')] } },
      ],
    });
    assert.deepEqual(outputValues(response, 'doubled').values, [3, -4]);
    const greeting = response.outputs.find((output) => output.name === 'greeting');
    assert.deepEqual((greeting?.contents?.bytes_contents as Buffer[]).map(String), ['hello ada', 'hello zoë']);
  });

  it('ModelInfer on a code model with raw contents (BYTES length-prefixed, as the binary extension)', async () => {
    const bytes = (texts: string[]) => Buffer.concat(texts.flatMap((t) => [Buffer.from(new Uint32Array([Buffer.byteLength(t)]).buffer), Buffer.from(t)]));
    const response = await client.call<InferResponseMessage>('ModelInfer', {
      model_name: 'echo',
      inputs: [{ name: 'x', datatype: 'FP64', shape: [1] }, { name: 'name', datatype: 'BYTES', shape: [1] }],
      raw_input_contents: [Buffer.from(new Float64Array([21]).buffer), bytes(['bo'])],
    });
    assert.deepEqual(outputValues(response, 'doubled').values, [42]);
    const index = response.outputs.findIndex((output) => output.name === 'greeting');
    assert.deepEqual(Buffer.from(response.raw_output_contents[index] as Buffer), bytes(['hello bo']));
  });
});

describe('gRPC port lifecycle', () => {
  it('is off unless server.grpc_port is set: no grpcUrl, grpc-js not needed', async () => {
    const served = await serve(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n`);
    try {
      assert.equal(served.server.grpcUrl, undefined);
    } finally {
      await served.close();
    }
  });

  it('close() stops the gRPC port too', async () => {
    const served = await serve(`server:\n  grpc_port: 0\nmodels:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n`);
    const client = inferClient(served.server.grpcUrl as string);
    try {
      assert.deepEqual(await client.call('ServerLive'), { live: true });
      await served.close();
      await assert.rejects(client.call('ServerLive', {}, { deadlineMs: 2000 }));
    } finally {
      client.close();
    }
  });
});
