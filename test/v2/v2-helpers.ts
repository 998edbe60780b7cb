/**
 * Helpers for the Open Inference Protocol (V2) tests: requests through `app.inject()`, error-body checks, and an
 * independent implementation of the binary tensor data extension (little-endian elements, BYTES as 4-byte LE length +
 * UTF-8) so requests are built and responses decoded without the server's own codec.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';

type Injected = Awaited<ReturnType<FastifyInstance['inject']>>;

export interface V2Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: Record<string, unknown>;
}

export interface V2Response {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: V2Tensor[];
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** POSTs `body` (an object, sent as JSON text) to `url`. */
export function postJson(app: FastifyInstance, url: string, body: unknown, headers: Record<string, string> = {}): Promise<Injected> {
  return app.inject({ method: 'POST', url, payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { ...JSON_HEADERS, ...headers } });
}

/** `POST /v2/models/{model}/infer` with a JSON body. */
export function inferJson(app: FastifyInstance, model: string, body: unknown): Promise<Injected> {
  return postJson(app, `/v2/models/${model}/infer`, body);
}

/** Asserts a successful JSON infer response and returns it parsed. */
export function okJson(response: Injected): V2Response {
  assert.equal(response.statusCode, 200, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  assert.equal(response.headers['inference-header-content-length'], undefined, 'a JSON response has no header-length header');
  assert.ok(response.headers['x-request-id'], 'every response carries x-request-id');
  return response.json<V2Response>();
}

/**
 * Asserts a V2 error: the status, a JSON body that is exactly `{"error": message}`, an `x-request-id`, and a message
 * matching `expected` (a RegExp, or a string the message must equal). Returns the message.
 */
export function assertError(response: Injected, status: number, expected?: RegExp | string): string {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  assert.ok(response.headers['x-request-id'], 'every response carries x-request-id');
  const body = response.json<Record<string, unknown>>();
  assert.deepEqual(Object.keys(body), ['error'], `V2 errors are {"error": message}, got ${response.body}`);
  const message = body.error;
  assert.equal(typeof message, 'string');
  if (typeof expected === 'string') assert.equal(message, expected);
  else if (expected) assert.match(message as string, expected);
  return message as string;
}

// ---------------------------------------------------------------------------------------------------------------------
// The binary tensor data extension, written independently of src/tensors.

interface ElementCodec {
  size: number;
  write(buffer: Buffer, value: unknown, offset: number): void;
  read(buffer: Buffer, offset: number): unknown;
}

/** FP16 as raw 16-bit words (what the wire carries); tests pick words whose values they know. */
const CODECS: Record<string, ElementCodec> = {
  BOOL: { size: 1, write: (b, v, o) => b.writeUInt8(v ? 1 : 0, o), read: (b, o) => b.readUInt8(o) !== 0 },
  UINT8: { size: 1, write: (b, v, o) => b.writeUInt8(v as number, o), read: (b, o) => b.readUInt8(o) },
  UINT16: { size: 2, write: (b, v, o) => b.writeUInt16LE(v as number, o), read: (b, o) => b.readUInt16LE(o) },
  UINT32: { size: 4, write: (b, v, o) => b.writeUInt32LE(v as number, o), read: (b, o) => b.readUInt32LE(o) },
  UINT64: { size: 8, write: (b, v, o) => b.writeBigUInt64LE(BigInt(v as number | bigint), o), read: (b, o) => b.readBigUInt64LE(o) },
  INT8: { size: 1, write: (b, v, o) => b.writeInt8(v as number, o), read: (b, o) => b.readInt8(o) },
  INT16: { size: 2, write: (b, v, o) => b.writeInt16LE(v as number, o), read: (b, o) => b.readInt16LE(o) },
  INT32: { size: 4, write: (b, v, o) => b.writeInt32LE(v as number, o), read: (b, o) => b.readInt32LE(o) },
  INT64: { size: 8, write: (b, v, o) => b.writeBigInt64LE(BigInt(v as number | bigint), o), read: (b, o) => b.readBigInt64LE(o) },
  FP16: { size: 2, write: (b, v, o) => b.writeUInt16LE(v as number, o), read: (b, o) => b.readUInt16LE(o) },
  FP32: { size: 4, write: (b, v, o) => b.writeFloatLE(v as number, o), read: (b, o) => b.readFloatLE(o) },
  FP64: { size: 8, write: (b, v, o) => b.writeDoubleLE(v as number, o), read: (b, o) => b.readDoubleLE(o) },
};

/** The little-endian bytes of `values` as `datatype` (FP16 values are raw half words; BYTES values are strings). */
export function toBytes(datatype: string, values: readonly unknown[]): Buffer {
  if (datatype === 'BYTES') return bytesElements(values as string[]);
  const codec = CODECS[datatype];
  assert.ok(codec, `no codec for ${datatype}`);
  const buffer = Buffer.alloc(values.length * codec.size);
  values.forEach((value, i) => codec.write(buffer, value, i * codec.size));
  return buffer;
}

/** Elements of `bytes` as `datatype`: numbers, bigints (64-bit ints), booleans, half words (FP16) or strings. */
export function fromBytes(datatype: string, bytes: Buffer): unknown[] {
  if (datatype === 'BYTES') return readBytesElements(bytes);
  const codec = CODECS[datatype];
  assert.ok(codec, `no codec for ${datatype}`);
  assert.equal(bytes.length % codec.size, 0, `${bytes.length} bytes is not a whole number of ${datatype} elements`);
  return Array.from({ length: bytes.length / codec.size }, (_, i) => codec.read(bytes, i * codec.size));
}

/** BYTES elements as the extension frames them: each a 4-byte little-endian length, then the UTF-8 bytes. */
export function bytesElements(strings: readonly string[]): Buffer {
  return Buffer.concat(
    strings.flatMap((text) => {
      const content = Buffer.from(text, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(content.length);
      return [length, content];
    }),
  );
}

export function readBytesElements(bytes: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    assert.ok(at + 4 <= bytes.length, 'BYTES element length cut short');
    const length = bytes.readUInt32LE(at);
    at += 4;
    assert.ok(at + length <= bytes.length, 'BYTES element runs past the data');
    out.push(bytes.toString('utf8', at, at + length));
    at += length;
  }
  return out;
}

/** A request input whose data travels in the binary tail. */
export interface BinaryInput {
  name: string;
  datatype: string;
  shape: number[];
  /** The raw bytes (see toBytes). */
  bytes: Buffer;
}

/**
 * A framed request body: the JSON header (with `binary_data_size` added to each binary input, in order; JSON inputs are
 * passed through) followed by the binary inputs' bytes. Returns the body and the headers to send with it.
 */
export function framedRequest(
  header: Record<string, unknown>,
  inputs: readonly (BinaryInput | V2Tensor)[],
): { payload: Buffer; headers: Record<string, string> } {
  const tails: Buffer[] = [];
  const jsonInputs = inputs.map((input) => {
    if (!('bytes' in input)) return input;
    tails.push(input.bytes);
    return { name: input.name, datatype: input.datatype, shape: input.shape, parameters: { binary_data_size: input.bytes.length } };
  });
  return framed({ ...header, inputs: jsonInputs }, Buffer.concat(tails));
}

/** `header` as JSON followed by `tail`, with the header length announced. */
export function framed(header: unknown, tail: Buffer, headerLength?: number): { payload: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return {
    payload: Buffer.concat([json, tail]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength ?? json.length) },
  };
}

/** POSTs a framed body to a model's infer route. */
export function inferFramed(app: FastifyInstance, model: string, request: { payload: Buffer; headers: Record<string, string> }): Promise<Injected> {
  return app.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload: request.payload, headers: request.headers });
}

/** One output of a decoded binary response: its JSON entry, and its bytes when it was sent as binary. */
export interface DecodedOutput {
  tensor: V2Tensor;
  bytes?: Buffer;
}

/**
 * Decodes a binary (framed) infer response: checks the `inference-header-content-length` header and the octet-stream
 * type, parses the JSON header, and slices the tail by each output's `binary_data_size`, which must use it exactly.
 */
export function decodeFramedResponse(response: Injected): { header: V2Response; outputs: Map<string, DecodedOutput> } {
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.headers['content-type'], 'application/octet-stream');
  const announced = response.headers['inference-header-content-length'];
  assert.ok(typeof announced === 'string' && /^\d+$/.test(announced), `inference-header-content-length is ${String(announced)}`);
  const body = response.rawPayload;
  const headerLength = Number(announced);
  assert.ok(headerLength <= body.length);
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as V2Response;
  const outputs = new Map<string, DecodedOutput>();
  let at = headerLength;
  for (const tensor of header.outputs) {
    const size = tensor.parameters?.binary_data_size;
    if (size === undefined) {
      outputs.set(tensor.name, { tensor });
      continue;
    }
    assert.equal(typeof size, 'number');
    assert.equal(tensor.data, undefined, `binary output '${tensor.name}' has no JSON data`);
    assert.ok(at + (size as number) <= body.length, `output '${tensor.name}' runs past the body`);
    outputs.set(tensor.name, { tensor, bytes: body.subarray(at, at + (size as number)) });
    at += size as number;
  }
  assert.equal(at, body.length, 'the binary outputs use the whole tail');
  return { header, outputs };
}

/** The elements of a decoded output, from its bytes or its JSON data. */
export function elementsOf(output: DecodedOutput | undefined): unknown[] {
  assert.ok(output, 'output present');
  return output.bytes ? fromBytes(output.tensor.datatype, output.bytes) : (output.tensor.data ?? []);
}

/** FP within atol 1e-5 + rtol 1e-4 of the reference; anything else exactly. */
export function assertMatches(actual: readonly unknown[], expected: readonly unknown[], datatype: string, where: string): void {
  assert.equal(actual.length, expected.length, `${where}: element count`);
  actual.forEach((value, i) => {
    const reference = expected[i];
    if (datatype.startsWith('FP')) {
      const diff = Math.abs((value as number) - (reference as number));
      assert.ok(diff <= 1e-5 + 1e-4 * Math.abs(reference as number), `${where}[${i}]: got ${String(value)}, want ${String(reference)}`);
    } else {
      assert.deepEqual(value, reference, `${where}[${i}]`);
    }
  });
}

/** Nests flat row-major `data` into `shape` (for the nested-JSON form of a request). */
export function nest(flat: readonly unknown[], shape: readonly number[]): unknown[] {
  if (shape.length <= 1) return [...flat];
  const [first, ...rest] = shape as [number, ...number[]];
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), rest));
}
