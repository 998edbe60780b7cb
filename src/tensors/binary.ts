/**
 * The binary tensor data extension, as Triton defines it: a JSON header of `Inference-Header-Content-Length` bytes,
 * followed by the raw little-endian bytes of each tensor whose `parameters.binary_data_size` says how many it takes, in
 * the order the header lists them. BYTES elements are each a 4-byte little-endian length and the bytes.
 */
import { isUtf8 } from 'node:buffer';
import { endianness } from 'node:os';
import { MalformedRequestError, SchemaValidationError } from '../errors.js';
import { type DatatypeInfo, type TensorData } from './datatypes.js';
import { formatShape } from './tensor.js';

/** Typed-array views below assume the host's byte order is the format's. */
if (endianness() !== 'LE') throw new Error('longshore supports little-endian hosts only (the binary tensor format is little-endian)');

function bad(message: string): SchemaValidationError {
  return new SchemaValidationError(message);
}

/** Splits a framed body into its JSON header and the bytes after it. */
export function splitFramedBody(body: Buffer, headerLength: number): { header: unknown; tail: Buffer } {
  if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
    throw bad(`Inference-Header-Content-Length is ${headerLength}, but the body has ${body.length} bytes`);
  }
  const json = body.subarray(0, headerLength);
  if (!isUtf8(json)) throw new MalformedRequestError(`the JSON header (the first ${headerLength} bytes) is not valid UTF-8; send JSON UTF-8 encoded`);
  let header: unknown;
  try {
    header = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw new MalformedRequestError(`the JSON header (the first ${headerLength} bytes) is not valid JSON: ${(error as Error).message}`);
  }
  return { header, tail: body.subarray(headerLength) };
}

/**
 * Decodes `bytes` as `count` elements of a tensor; the bytes are copied, so the result is aligned and owned. `name`
 * names the tensor in messages; `role` says whether it is an input (a request) or an output (a response).
 */
export function decodeBinary(
  bytes: Buffer,
  info: DatatypeInfo,
  shape: readonly number[],
  count: number,
  name: string,
  role: 'input' | 'output' = 'input',
): TensorData {
  const label = `${role} '${name}'`;
  if (info.datatype === 'BYTES') return decodeBytesElements(bytes, count, label, role === 'input');
  const expected = count * info.byteSize;
  if (bytes.length !== expected) {
    throw bad(`${label}: ${info.datatype} ${formatShape(shape)} needs ${expected} bytes of binary data, got ${bytes.length}`);
  }
  const target = info.allocate(count) as Exclude<TensorData, string[]>;
  new Uint8Array(target.buffer, target.byteOffset, expected).set(bytes);
  if (info.datatype === 'BOOL') for (let i = 0; i < count; i++) target[i] = target[i] ? 1 : 0;
  return target;
}

/** Refuses bytes that are not UTF-8 (instead of replacing them with U+FFFD); keeps a leading byte-order mark. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * BYTES elements as strings. A request's elements go to a model that takes strings (an ONNX string tensor, a record
 * model's string or JSON field), so they must be UTF-8 (`strict`); a response's are decoded as they come.
 */
function decodeBytesElements(bytes: Buffer, count: number, label: string, strict: boolean): string[] {
  // Each element takes at least its 4-byte length, so a shape claiming more cannot be backed by these bytes.
  if (count > bytes.length / 4) throw bad(`${label}: ${count} BYTES elements need at least ${count * 4} bytes, got ${bytes.length}`);
  const out = new Array<string>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) throw bad(`${label}: BYTES data ends inside the length of element ${i} of ${count}`);
    const length = bytes.readUInt32LE(at);
    at += 4;
    if (at + length > bytes.length) throw bad(`${label}: BYTES element ${i} says ${length} bytes, only ${bytes.length - at} remain`);
    if (!strict) out[i] = bytes.toString('utf8', at, at + length);
    else {
      try {
        out[i] = STRICT_UTF8.decode(bytes.subarray(at, at + length));
      } catch {
        throw bad(`${label}: BYTES element ${i} is not valid UTF-8; this model takes strings, so send them UTF-8 encoded`);
      }
    }
    at += length;
  }
  if (at !== bytes.length) throw bad(`${label}: ${bytes.length - at} bytes of binary data left over after ${count} BYTES elements`);
  return out;
}

/** The raw bytes of tensor data (a view, not a copy, for numeric data). */
export function encodeBinary(data: TensorData): Buffer {
  if (Array.isArray(data)) {
    const parts: Buffer[] = [];
    for (const text of data) {
      const bytes = Buffer.from(text, 'utf8');
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32LE(bytes.length);
      parts.push(length, bytes);
    }
    return Buffer.concat(parts);
  }
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
