/**
 * gRPC status codes through a real client: the catalogue → status table (status.ts) for every type, and over a server
 * NOT_FOUND on every RPC (before the inputs are looked at), INVALID_ARGUMENT for bad tensors (the REST messages),
 * UNAVAILABLE for a model still loading (ModelReady: OK, ready false), RESOURCE_EXHAUSTED for too many elements and for
 * messages past server.grpc_max_message_bytes (both directions, naming the key), INTERNAL for a model that throws,
 * UNIMPLEMENTED for an unknown method. Deadlines and cancellation are in deadlines.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERROR_STATUS, InternalError, ModelNotFoundError, type ErrorType } from '../../src/errors.ts';
import { ERROR_GRPC_STATUS, toStatus } from '../../src/grpc/status.ts';
import { FIXTURES, serve, type Served } from '../batching-http/http-harness.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { fixture, silentLogger, writeConfig } from '../helpers/service.ts';
import { assertStatus, fp32Bytes, inferClient, status, type InferClient } from './grpc-helpers.ts';

const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];
const irisRaw = (rows: number) => ({
  model_name: 'iris_logreg',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 4] }],
  raw_input_contents: [fp32Bytes(Array.from({ length: rows }, () => IRIS_ROW).flat())],
});

describe('the error → gRPC status table', () => {
  it('maps every catalogue type, as the issue asks for the ones a call can meet', () => {
    assert.deepEqual(Object.keys(ERROR_GRPC_STATUS).sort(), Object.keys(ERROR_STATUS).sort());
    const expected: Partial<Record<ErrorType, status>> = {
      ModelNotFoundError: status.NOT_FOUND,
      SchemaValidationError: status.INVALID_ARGUMENT,
      MalformedRequestError: status.INVALID_ARGUMENT,
      ModelNotReadyError: status.UNAVAILABLE,
      QueueFullError: status.UNAVAILABLE,
      DeadlineExceededError: status.DEADLINE_EXCEEDED,
      PayloadTooLargeError: status.RESOURCE_EXHAUSTED,
      TooManyElementsError: status.RESOURCE_EXHAUSTED,
      NotImplementedError: status.UNIMPLEMENTED,
      InferenceError: status.INTERNAL,
      InternalError: status.INTERNAL,
      RequestCancelledError: status.CANCELLED,
    };
    for (const [type, code] of Object.entries(expected)) assert.equal(ERROR_GRPC_STATUS[type as ErrorType], code, type);
  });

  it('keeps a catalogue message and type; anything else is INTERNAL without its message', () => {
    const known = toStatus(new ModelNotFoundError("model 'x' not found")).status;
    assert.equal(known.code, status.NOT_FOUND);
    assert.equal(known.details, "model 'x' not found");
    assert.deepEqual(known.metadata?.get('longshore-error-type'), ['ModelNotFoundError']);
    const other = toStatus(new TypeError('secret path /etc/x'));
    assert.equal(other.status.code, status.INTERNAL);
    assert.ok(other.error instanceof InternalError);
    assert.doesNotMatch(other.status.details ?? '', /secret/);
  });
});

describe('gRPC statuses over a server', () => {
  let served: Served;
  let client: InferClient;

  before(async () => {
    served = await serve(
      'server:\n  grpc_port: 0\n  grpc_max_message_bytes: 1000\n' +
        'limits:\n  predict:\n    max_tensor_elements: 200\n' +
        'health:\n  ready_without_models: true\n' +
        'models:\n' +
        `  - model_path: ${FIXTURES}iris_logreg.onnx\n` +
        `  - class_path: ${fixture('mixed-throw.ts', 'MixedThrowModel')}\n    qualified_name: thrower\n`,
    );
    client = inferClient(served.server.grpcUrl as string);
  });
  after(async () => {
    client.close();
    await served.close();
  });

  it('NOT_FOUND for an unknown model on ModelReady, ModelMetadata and ModelInfer (inputs never looked at)', async () => {
    await assertStatus(client.call('ModelReady', { name: 'nope' }), status.NOT_FOUND, /nope/, 'ModelNotFoundError');
    await assertStatus(client.call('ModelMetadata', { name: 'nope' }), status.NOT_FOUND, /nope/);
    await assertStatus(client.call('ModelInfer', { model_name: 'nope', inputs: [] }), status.NOT_FOUND, /nope/);
    await assertStatus(client.call('ModelReady', { name: 'iris_logreg', version: '99' }), status.NOT_FOUND);
    await assertStatus(client.call('ModelInfer', { ...irisRaw(1), model_version: '99' }), status.NOT_FOUND);
  });

  it('INVALID_ARGUMENT for bad tensors, with the messages of the V2 REST routes', async () => {
    const infer = (request: object) => client.call('ModelInfer', { model_name: 'iris_logreg', ...request });
    const input = { name: 'input', datatype: 'FP32', shape: [1, 4] };
    await assertStatus(infer({ inputs: [] }), status.INVALID_ARGUMENT, /non-empty/, 'SchemaValidationError');
    await assertStatus(infer({ inputs: [{ ...input, datatype: 'FP64', contents: { fp64_contents: IRIS_ROW } }] }), status.INVALID_ARGUMENT, /input 'input': expected FP32 \[-1,4\], got FP64 \[1,4\]/);
    await assertStatus(infer({ inputs: [{ ...input, contents: { fp64_contents: IRIS_ROW } }] }), status.INVALID_ARGUMENT, /FP32 goes in contents.fp32_contents, but contents.fp64_contents was given/);
    await assertStatus(infer({ inputs: [{ ...input, contents: { fp32_contents: [1, 2] } }] }), status.INVALID_ARGUMENT, /needs 4 elements, contents.fp32_contents has 2/);
    await assertStatus(infer({ inputs: [{ ...input, name: 'x', contents: { fp32_contents: IRIS_ROW } }] }), status.INVALID_ARGUMENT, /unknown input 'x'/);
    await assertStatus(infer({ inputs: [input], raw_input_contents: [fp32Bytes([1, 2])] }), status.INVALID_ARGUMENT, /needs 16 bytes of binary data, got 8/);
    await assertStatus(infer({ inputs: [input, input], raw_input_contents: [fp32Bytes(IRIS_ROW)] }), status.INVALID_ARGUMENT, /raw_input_contents has 1 entries for 2 inputs/);
    await assertStatus(infer({ inputs: [{ ...input, datatype: 'FP16', contents: { fp32_contents: IRIS_ROW } }] }), status.INVALID_ARGUMENT, /FP16 has no contents field; send it in raw_input_contents/);
    await assertStatus(infer({ inputs: [{ ...input, datatype: 'INT8', contents: { int_contents: [1, 2, 3, 300] } }] }), status.INVALID_ARGUMENT, /element 3 is 300, expected an integer from -128 to 127/);
    await assertStatus(infer({ ...irisRaw(1), outputs: [{ name: 'nope' }] }), status.INVALID_ARGUMENT, /unknown output 'nope'/);
    await assertStatus(infer({ ...irisRaw(1), parameters: { timeout: { string_param: 'soon' } } }), status.INVALID_ARGUMENT, /parameters.timeout must be an int64_param/);
  });

  it('RESOURCE_EXHAUSTED past limits.predict.max_tensor_elements, checked on the shapes', async () => {
    await assertStatus(
      client.call('ModelInfer', { model_name: 'iris_logreg', inputs: [{ name: 'input', datatype: 'FP32', shape: [1000, 4] }] }),
      status.RESOURCE_EXHAUSTED,
      /limits.predict.max_tensor_elements/,
      'TooManyElementsError',
    );
  });

  it('RESOURCE_EXHAUSTED naming server.grpc_max_message_bytes for a request, then a response, too large', async () => {
    await assertStatus(client.call('ModelInfer', irisRaw(100)), status.RESOURCE_EXHAUSTED, /the request message is larger than 1000 bytes \(server.grpc_max_message_bytes\)/);
    // 49 rows: the request (16 bytes a row) fits, the raw response (20 bytes a row) does not.
    await assertStatus(client.call('ModelInfer', irisRaw(49)), status.RESOURCE_EXHAUSTED, /the response message is larger than 1000 bytes \(server.grpc_max_message_bytes\)/);
    // The server still answers on the same channel.
    assert.deepEqual(await client.call('ServerLive'), { live: true });
  });

  it('INTERNAL with the model\'s failure for a model that throws (as REST\'s 500 InferenceError)', async () => {
    await assertStatus(
      client.call('ModelInfer', { model_name: 'thrower', inputs: [{ name: 'x', datatype: 'FP64', shape: [1], contents: { fp64_contents: [-1] } }] }),
      status.INTERNAL,
      /negative x/,
      'InferenceError',
    );
  });

  it('UNIMPLEMENTED for a method the service does not have', async () => {
    const call = new Promise((resolve, reject) =>
      client.raw.makeUnaryRequest('/inference.GRPCInferenceService/RepositoryIndex', (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), (error, value) => (error ? reject(error) : resolve(value))),
    );
    await assertStatus(call, status.UNIMPLEMENTED);
  });
});

describe('a model still loading over gRPC', () => {
  let server: RunningServer;
  let client: InferClient;

  before(async () => {
    const file = writeConfig(`server:\n  grpc_port: 0\nmodels:\n  - class_path: ${fixture('slow.ts', 'SlowModel')}\n    qualified_name: slow\n`);
    // Not waiting for modelsLoaded: the model loads only when released.
    server = await startServer({ loaded: loadConfigFile(file), host: '127.0.0.1', port: 0, logger: silentLogger() });
    client = inferClient(server.grpcUrl as string);
  });
  after(async () => {
    client.close();
    (server.registry.require('slow').model as unknown as { release(): void }).release();
    await server.close();
  });

  it('ServerReady and ModelReady are OK with ready: false; ModelInfer is UNAVAILABLE', async () => {
    assert.deepEqual(await client.call('ServerReady'), { ready: false });
    assert.deepEqual(await client.call('ModelReady', { name: 'slow' }), { ready: false });
    await assertStatus(client.call('ModelInfer', { model_name: 'slow', inputs: [] }), status.UNAVAILABLE, /slow/, 'ModelNotReadyError');
  });
});
