/**
 * Open Inference Protocol JSON tensors: request `data` (nested or flat, row-major) is decoded straight into typed
 * arrays, checking every element; output typed arrays are written straight into JSON text, with no array of boxed
 * numbers in between.
 */
import { SchemaValidationError } from '../errors.js';
import { datatypeInfo, type DatatypeInfo, type TensorData } from './datatypes.js';
import { formatShape, type Tensor } from './tensor.js';

const DATATYPES = 'BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES';

function bad(message: string): SchemaValidationError {
  return new SchemaValidationError(message);
}

/** Validates the name, datatype and shape of a request tensor; returns its datatype entry and element count. */
export function tensorHeader(value: unknown, where: string): { name: string; info: DatatypeInfo; shape: number[]; count: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${where} must be an object with name, shape, datatype and data`);
  const { name, datatype, shape } = value as { name?: unknown; datatype?: unknown; shape?: unknown };
  if (typeof name !== 'string' || name === '') throw bad(`${where} needs a "name" string`);
  if (typeof datatype !== 'string') throw bad(`input '${name}': "datatype" must be one of ${DATATYPES}`);
  const info = datatypeInfo(datatype);
  if (!info) {
    const why = datatype === 'BF16' ? 'BF16 is not supported by longshore' : `unknown datatype ${JSON.stringify(datatype)}`;
    throw bad(`input '${name}': ${why}; use one of ${DATATYPES}`);
  }
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 0)) {
    throw bad(`input '${name}': "shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const count = shape.reduce((product: number, dim: number) => product * dim, 1);
  return { name, info, shape, count };
}

/** Decodes one request input whose elements are in JSON `data`. */
export function decodeJsonTensor(value: unknown, where: string): Tensor {
  const { name, info, shape, count } = tensorHeader(value, where);
  const data = (value as { data?: unknown }).data;
  if (!Array.isArray(data)) throw bad(`input '${name}': "data" must be an array (nested or flat, row-major)`);
  // Count before allocating, so a large shape with little data is a 400, not a huge allocation. Flat data that
  // already has the right length (the common case) needs no walk.
  const isFlat = data.length === count && !Array.isArray(data[0]);
  if (!isFlat) {
    const leaves = countLeaves(data);
    if (leaves !== count) throw bad(`input '${name}': shape ${formatShape(shape)} needs ${count} elements, data has ${leaves}`);
  }
  const target = info.allocate(count);
  const written = fill(data, target, 0, count, info, name);
  if (written !== count) {
    throw bad(`input '${name}': shape ${formatShape(shape)} needs ${count} elements, data has ${countLeaves(data)}`);
  }
  return { name, datatype: info.datatype, shape, data: target };
}

/** Writes the leaves of nested `data` into `target` from `offset`; returns the offset after the last one. */
function fill(data: unknown[], target: TensorData, offset: number, count: number, info: DatatypeInfo, name: string): number {
  let at = offset;
  for (const item of data) {
    if (Array.isArray(item)) {
      at = fill(item, target, at, count, info, name);
      continue;
    }
    if (at >= count) return count + 1; // more elements than the shape holds; counted again for the message
    (target as unknown[])[at] = element(item, info, name, at);
    at++;
  }
  return at;
}

function element(item: unknown, info: DatatypeInfo, name: string, index: number): number | bigint | string {
  const expected = expectedKind(info);
  switch (expected) {
    case 'boolean':
      if (typeof item === 'boolean') return item ? 1 : 0;
      break;
    case 'string':
      if (typeof item === 'string') return item;
      break;
    case 'number': {
      const limit = (info.elementSchema as { exclusiveMaximum?: number }).exclusiveMaximum;
      if (typeof item === 'number' && (limit === undefined || Math.abs(item) < limit)) return info.fromJson(item);
      if (typeof item === 'number') throw bad(`input '${name}': element ${index} (${item}) would overflow ${info.datatype} (|value| must be below ${limit})`);
      break;
    }
    case 'integer': {
      const { minimum, maximum } = info.elementSchema as { minimum: number; maximum: number };
      if (typeof item === 'number' && Number.isInteger(item) && item >= minimum && item <= maximum) return info.fromJson(item);
      if (typeof item === 'number' && Number.isInteger(item) && Math.abs(item) > Number.MAX_SAFE_INTEGER && (info.datatype === 'INT64' || info.datatype === 'UINT64')) {
        throw bad(`input '${name}': element ${index} (${item}) is beyond ±(2^53−1), which JSON cannot carry exactly; send ${info.datatype} tensors in binary`);
      }
      break;
    }
  }
  throw bad(`input '${name}': element ${index} is ${JSON.stringify(item)}, expected ${describe(info)}`);
}

function expectedKind(info: DatatypeInfo): 'boolean' | 'string' | 'number' | 'integer' {
  if (info.datatype === 'BOOL') return 'boolean';
  if (info.datatype === 'BYTES') return 'string';
  return (info.elementSchema as { type: string }).type === 'integer' ? 'integer' : 'number';
}

function describe(info: DatatypeInfo): string {
  const kind = expectedKind(info);
  if (kind !== 'integer') return `a ${kind} for ${info.datatype}`;
  const { minimum, maximum } = info.elementSchema as { minimum: number; maximum: number };
  return `an integer from ${minimum} to ${maximum} for ${info.datatype}`;
}

function countLeaves(data: unknown[]): number {
  let count = 0;
  for (const item of data) count += Array.isArray(item) ? countLeaves(item) : 1;
  return count;
}

/**
 * The JSON text of a tensor's flat data: `[1,2.5,...]`. Integers of 64 bits are written with all their digits (JSON
 * numbers have no size limit; the binary extension carries them too); non-finite floats, which JSON cannot express,
 * become null.
 */
export function jsonData(tensor: Tensor): string {
  const { data } = tensor;
  const info = datatypeInfo(tensor.datatype) as DatatypeInfo;
  const parts = new Array<string>(data.length);
  switch (tensor.datatype) {
    case 'BYTES':
      for (let i = 0; i < data.length; i++) parts[i] = JSON.stringify(data[i]);
      break;
    case 'BOOL':
      for (let i = 0; i < data.length; i++) parts[i] = data[i] ? 'true' : 'false';
      break;
    case 'INT64':
    case 'UINT64':
      for (let i = 0; i < data.length; i++) parts[i] = String(data[i]);
      break;
    case 'FP16':
      for (let i = 0; i < data.length; i++) parts[i] = finite(info.toJson(data[i] as number) as number);
      break;
    default:
      for (let i = 0; i < data.length; i++) parts[i] = finite(data[i] as number);
  }
  return `[${parts.join(',')}]`;
}

function finite(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}
