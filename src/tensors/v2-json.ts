/**
 * Open Inference Protocol JSON tensors: request `data` (nested or flat, row-major) is decoded straight into typed
 * arrays, checking every element; output typed arrays are written straight into JSON text, with no array of boxed
 * numbers in between.
 */
import { SchemaValidationError } from '../errors.js';
import { ALL_DATATYPES, datatypeInfo, type DatatypeInfo } from './datatypes.js';
import { elementCount } from './codec.js';
import { formatShape, type Tensor } from './tensor.js';

const DATATYPES = ALL_DATATYPES.map((info) => info.datatype).join(', ');

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
  const count = elementCount(shape as number[]);
  return { name, info, shape, count };
}

/** Decodes one request input whose elements are in JSON `data`. */
export function decodeJsonTensor(value: unknown, where: string): Tensor {
  const { name, info, shape, count } = tensorHeader(value, where);
  const data = (value as { data?: unknown }).data;
  if (!Array.isArray(data)) throw bad(`input '${name}': "data" must be an array (nested or flat, row-major)`);
  // Count before allocating, so a large shape with little data is a 400, not a huge allocation. Flat data that
  // already has the right length (the common case) needs no walk. Nesting deeper than the rank is refused.
  const isFlat = data.length === count && !Array.isArray(data[0]);
  if (!isFlat) {
    const leaves = countLeaves(data, Math.max(shape.length, 1), name);
    if (leaves !== count) throw bad(`input '${name}': shape ${formatShape(shape)} needs ${count} elements, data has ${leaves}`);
  }
  const target = info.allocate(count);
  const check = CHECKERS.get(info.datatype) as Checker;
  fill(data, target as unknown[], 0, check, name);
  return { name, datatype: info.datatype, shape, data: target };
}

/** Writes the leaves of nested `data` (already counted) into `target` from `offset`; returns the offset after them. */
function fill(data: readonly unknown[], target: unknown[], offset: number, check: Checker, name: string): number {
  let at = offset;
  for (const item of data) {
    if (Array.isArray(item)) at = fill(item, target, at, check, name);
    else {
      target[at] = check(item, name, at);
      at++;
    }
  }
  return at;
}

/** Leaves of nested `data`, refusing nesting deeper than `maxDepth` levels (the tensor's rank). */
function countLeaves(data: readonly unknown[], maxDepth: number, name: string, depth = 1): number {
  if (depth > maxDepth) throw bad(`input '${name}': "data" is nested deeper than the tensor's ${maxDepth} dimension(s)`);
  let count = 0;
  for (const item of data) count += Array.isArray(item) ? countLeaves(item, maxDepth, name, depth + 1) : 1;
  return count;
}

/** Turns one JSON element into the stored element, or throws a 400 naming it. */
type Checker = (item: unknown, name: string, index: number) => number | bigint | string;

/** One checker per datatype, built once from the datatype table. */
const CHECKERS = new Map<string, Checker>(ALL_DATATYPES.map((info) => [info.datatype, checkerFor(info)]));

function checkerFor(info: DatatypeInfo): Checker {
  const fail = (item: unknown, name: string, index: number, expected: string): never => {
    throw bad(`input '${name}': element ${index} is ${JSON.stringify(item)}, expected ${expected} for ${info.datatype}`);
  };
  const schema = info.elementSchema as { type: string; minimum?: number; maximum?: number; exclusiveMaximum?: number };
  if (info.datatype === 'BOOL') return (item, name, index) => (typeof item === 'boolean' ? (item ? 1 : 0) : fail(item, name, index, 'a boolean'));
  if (info.datatype === 'BYTES') return (item, name, index) => (typeof item === 'string' ? item : fail(item, name, index, 'a string'));
  if (schema.type === 'integer') {
    const { minimum = 0, maximum = 0 } = schema;
    const wide = info.datatype === 'INT64' || info.datatype === 'UINT64';
    return (item, name, index) => {
      if (typeof item === 'number' && Number.isInteger(item)) {
        if (item >= minimum && item <= maximum) return info.fromJson(item);
        if (wide && Math.abs(item) > Number.MAX_SAFE_INTEGER) {
          throw bad(`input '${name}': element ${index} (${item}) is beyond ±(2^53−1), which JSON cannot carry exactly; send ${info.datatype} tensors in binary`);
        }
      }
      return fail(item, name, index, `an integer from ${minimum} to ${maximum}`);
    };
  }
  const limit = schema.exclusiveMaximum;
  return (item, name, index) => {
    if (typeof item !== 'number') return fail(item, name, index, 'a number');
    if (limit !== undefined && !(Math.abs(item) < limit)) {
      throw bad(`input '${name}': element ${index} (${item}) would overflow ${info.datatype} (|value| must be below ${limit})`);
    }
    return info.fromJson(item);
  };
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
