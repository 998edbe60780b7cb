/**
 * A real grpc-js client of inference.GRPCInferenceService, built from the same proto with proto-loader, and helpers to
 * call it: promise-returning RPCs, a check of the status an RPC ends with, and tensors from the ONNX fixtures.
 */
import assert from 'node:assert/strict';
import { credentials, loadPackageDefinition, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { underInferencePaths } from '../../src/grpc/repository.ts';
import { PROTO_FILE, PROTO_OPTIONS, REPOSITORY_PROTO_FILE } from '../../src/grpc/server.ts';

export { status };

type Unary = (request: object, metadata: Metadata, options: { deadline?: number }, callback: (error: ServiceError | null, response: unknown) => void) => { cancel(): void };

export interface InferClient {
  readonly raw: Client & Record<string, Unary>;
  call<T = Record<string, unknown>>(method: string, request?: object, options?: { deadlineMs?: number; metadata?: Record<string, string> }): Promise<T>;
  /** Starts a call and returns its cancel() with the promise of its end. */
  start(method: string, request: object): { cancel(): void; done: Promise<unknown> };
  close(): void;
}

export function inferClient(url: string, options: Record<string, number> = {}): InferClient {
  const definition = loadPackageDefinition(loadSync(PROTO_FILE, PROTO_OPTIONS)) as unknown as {
    inference: { GRPCInferenceService: new (url: string, creds: ReturnType<typeof credentials.createInsecure>, options: object) => Client & Record<string, Unary> };
  };
  const raw = new definition.inference.GRPCInferenceService(url, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    ...options,
  });
  const start = (method: string, request: object, callOptions: { deadlineMs?: number; metadata?: Record<string, string> } = {}) => {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(callOptions.metadata ?? {})) metadata.set(key, value);
    let handle: { cancel(): void } = { cancel() {} };
    const done = new Promise<unknown>((resolve, reject) => {
      const deadline = callOptions.deadlineMs === undefined ? {} : { deadline: Date.now() + callOptions.deadlineMs };
      handle = (raw[method] as Unary).call(raw, request, metadata, deadline, (error, response) => (error ? reject(error) : resolve(response)));
    });
    return { cancel: () => handle.cancel(), done };
  };
  return {
    raw,
    call: async <T>(method: string, request: object = {}, callOptions = {}) => (await start(method, request, callOptions).done) as T,
    start: (method, request) => start(method, request),
    close: () => raw.close(),
  };
}

/** Asserts `promise` ends with gRPC status `code` (and a message matching `message`); returns the error. */
export async function assertStatus(promise: Promise<unknown>, code: status, message?: RegExp, type?: string): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    const e = error as ServiceError;
    assert.equal(e.code, code, `status ${status[e.code]} (${e.details}), expected ${status[code]}`);
    if (message) assert.match(e.details, message);
    if (type) assert.deepEqual(e.metadata.get('longshore-error-type'), [type]);
    return e;
  }
  assert.fail(`expected status ${status[code]}, the call succeeded`);
}

/** Little-endian bytes of FP32 values. */
export function fp32Bytes(values: readonly number[]): Buffer {
  const array = Float32Array.from(values);
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/** An output tensor of a ModelInfer response, as numbers, from contents or from raw_output_contents. */
export interface OutputMessage {
  name: string;
  datatype: string;
  shape: string[];
  contents?: Record<string, unknown[]> | null;
}
export interface InferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  outputs: OutputMessage[];
  raw_output_contents: Buffer[];
}

export function outputValues(response: InferResponseMessage, name: string): { shape: number[]; values: number[] } {
  const index = response.outputs.findIndex((output) => output.name === name);
  assert.notEqual(index, -1, `output ${name} is in the response`);
  const output = response.outputs[index] as OutputMessage;
  const shape = output.shape.map(Number);
  const raw = response.raw_output_contents[index];
  if (raw !== undefined) {
    const bytes = new Uint8Array(raw).buffer; // a copy, aligned
    const view =
      output.datatype === 'FP32' ? new Float32Array(bytes)
      : output.datatype === 'INT64' ? Array.from(new BigInt64Array(bytes), Number)
      : output.datatype === 'FP64' ? new Float64Array(bytes)
      : assert.fail(`no raw reader for ${output.datatype}`);
    return { shape, values: Array.from(view) };
  }
  const contents = output.contents ?? {};
  const field = Object.keys(contents).find((key) => (contents[key]?.length ?? 0) > 0);
  assert.ok(field, `output ${name} has contents`);
  return { shape, values: (contents[field] as unknown[]).map(Number) };
}

export function assertClose(actual: readonly number[], expected: readonly number[], where: string): void {
  assert.equal(actual.length, expected.length, `${where}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    assert.ok(Math.abs(a - e) <= 1e-5 + 1e-4 * Math.abs(e), `${where}[${i}]: ${a} vs ${e}`);
  }
}

/** A grpc-js client of any service of `files` (`service`: its full name, e.g. `grpc.health.v1.Health`). */
export interface ServiceClient {
  call<T = Record<string, unknown>>(method: string, request?: object, metadata?: Record<string, string>): Promise<T>;
  /** A server-streaming call: every message it sends until it ends (or `cancel()`), then how it ended. */
  stream(method: string, request: object, metadata?: Record<string, string>): { messages: unknown[]; next(): Promise<unknown>; cancel(): void; ended: Promise<ServiceError | null> };
  /** A bidi-streaming call: writes each request, half-closes, and collects every response. */
  bidi<T = Record<string, unknown>>(method: string, requests: object[], metadata?: Record<string, string>): Promise<T[]>;
  close(): void;
}

export function serviceClient(url: string, files: string[], service: string): ServiceClient {
  let definition = loadPackageDefinition(loadSync(files, PROTO_OPTIONS)) as unknown as Record<string, unknown>;
  for (const part of service.split('.')) definition = definition[part] as Record<string, unknown>;
  return clientOf(url, definition);
}

/**
 * A client of inference.GRPCRepositoryService whose methods call the paths Triton's clients (tritonclient.grpc) call:
 * /inference.GRPCInferenceService/Repository*.
 */
export function tritonPathClient(url: string): ServiceClient {
  const definition = loadPackageDefinition(loadSync(REPOSITORY_PROTO_FILE, PROTO_OPTIONS)) as unknown as { inference: { GRPCRepositoryService: { service: Parameters<typeof underInferencePaths>[0] } } };
  return clientOf(url, makeGenericClientConstructor(underInferencePaths(definition.inference.GRPCRepositoryService.service), 'GRPCInferenceService'));
}

function clientOf(url: string, definition: unknown): ServiceClient {
  const Constructor = definition as unknown as new (url: string, creds: ReturnType<typeof credentials.createInsecure>) => Client & Record<string, (...args: unknown[]) => unknown>;
  const raw = new Constructor(url, credentials.createInsecure());
  const metadataOf = (entries: Record<string, string> = {}) => {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
    return metadata;
  };
  return {
    call: <T>(method: string, request: object = {}, metadata?: Record<string, string>) =>
      new Promise<T>((resolve, reject) => {
        (raw[method] as (...args: unknown[]) => unknown).call(raw, request, metadataOf(metadata), (error: ServiceError | null, response: T) => (error ? reject(error) : resolve(response)));
      }),
    stream: (method, request, metadata) => {
      const call = (raw[method] as (...args: unknown[]) => NodeJS.EventEmitter & { cancel(): void }).call(raw, request, metadataOf(metadata));
      const messages: unknown[] = [];
      const waiting: ((message: unknown) => void)[] = [];
      let read = 0;
      call.on('data', (message: unknown) => {
        messages.push(message);
        waiting.shift()?.(message);
      });
      const ended = new Promise<ServiceError | null>((resolve) => {
        call.on('error', (error: ServiceError) => resolve(error));
        call.on('end', () => resolve(null));
      });
      return {
        messages,
        next: () => (read < messages.length ? Promise.resolve(messages[read++]) : new Promise((resolve) => waiting.push((message) => { read++; resolve(message); }))),
        cancel: () => call.cancel(),
        ended,
      };
    },
    bidi: <T>(method: string, requests: object[], metadata?: Record<string, string>) =>
      new Promise<T[]>((resolve, reject) => {
        const call = (raw[method] as (...args: unknown[]) => NodeJS.EventEmitter & { write(m: object): void; end(): void }).call(raw, metadataOf(metadata));
        const responses: T[] = [];
        call.on('data', (message: T) => responses.push(message));
        call.on('error', reject);
        call.on('end', () => resolve(responses));
        for (const request of requests) call.write(request);
        call.end();
      }),
    close: () => raw.close(),
  };
}
