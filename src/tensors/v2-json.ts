/**
 * Open Inference Protocol JSON tensors: request `data` (nested or flat, row-major) is decoded straight into typed
 * arrays, checking every element; output typed arrays are written straight into JSON text, with no array of boxed
 * numbers in between.
 */
import { quote, SchemaValidationError } from '../errors.js';
import { ALL_DATATYPES, datatypeInfo, type DatatypeInfo, type TensorData } from './datatypes.js';
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
    const why = datatype === 'BF16' ? 'BF16 is not supported by longshore' : `unknown datatype ${quote(datatype)}`;
    throw bad(`input '${name}': ${why}; use one of ${DATATYPES}`);
  }
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 0)) {
    throw bad(`input '${name}': "shape" must be an array of non-negative integers, got ${quote(shape)}`);
  }
  const count = elementCount(shape as number[]);
  return { name, info, shape, count };
}

/** Decodes one request input whose elements are in JSON `data`: flat (row-major), or nested exactly as the shape. */
export function decodeJsonTensor(value: unknown, where: string): Tensor {
  const { name, info, shape, count } = tensorHeader(value, where);
  const data = (value as { data?: unknown }).data;
  if (!Array.isArray(data)) throw bad(`input '${name}': "data" must be an array (nested or flat, row-major)`);
  const check = CHECKERS.get(info.datatype) as Checker;
  if (!Array.isArray(data[0])) {
    // Flat (the common case): one pass, one check per element; an array among the elements is refused, never walked.
    if (data.length !== count) {
      const nested = data.findIndex((item) => Array.isArray(item));
      if (nested !== -1) throw notFlat(name, shape, data, nested);
      throw bad(`input '${name}': shape ${formatShape(shape)} needs ${count} elements, data has ${data.length}`);
    }
    const target = info.allocate(count) as unknown[];
    for (let i = 0; i < count; i++) {
      const item: unknown = data[i];
      if (Array.isArray(item)) throw notFlat(name, shape, data, i);
      target[i] = check(item, name, i);
    }
    return { name, datatype: info.datatype, shape, data: target as TensorData };
  }
  // Nested: the structure is checked against the shape (without recursion) before anything is allocated, so a large
  // shape with little data is a 400, not a huge allocation, and any depth of nesting is safe.
  const dims = shape.length === 0 ? [1] : shape;
  checkNesting(data, dims, name, shape);
  const target = info.allocate(count) as unknown[];
  let at = 0;
  forEachRow(data, dims.length, (row) => {
    for (const item of row) {
      target[at] = check(item, name, at);
      at++;
    }
  });
  return { name, datatype: info.datatype, shape, data: target as TensorData };
}

const RULE = 'data must be flat (row-major) or nested exactly as the shape';

function describeElement(item: unknown): string {
  if (Array.isArray(item)) return 'an array';
  if (item === null) return 'null';
  if (typeof item === 'object') return 'an object';
  return `a ${typeof item}`;
}

function dimensions(shape: readonly number[]): string {
  return `${shape.length} dimension${shape.length === 1 ? '' : 's'}`;
}

function pathOf(indices: readonly number[]): string {
  return `data${indices.map((i) => `[${i}]`).join('')}`;
}

/** The element at `indices` of nested `data` (only called on arrays already walked, so no deeper than the shape). */
function elementAt(data: readonly unknown[], indices: readonly number[]): unknown {
  let node: unknown = data;
  for (const i of indices) node = (node as unknown[])[i];
  return node;
}

function notFlat(name: string, shape: readonly number[], data: readonly unknown[], index: number): SchemaValidationError {
  return bad(`input '${name}': data[${index}] is an array but data[0] is ${describeElement(data[0])}: ${RULE} ${formatShape(shape)}`);
}

/**
 * Checks that `data` is nested exactly as `dims` (arrays of dims[d] items at depth d, non-arrays below the last),
 * iteratively: first along data[0][0]…, which bounds the depth looked at by the rank, then every array.
 */
function checkNesting(data: readonly unknown[], dims: readonly number[], name: string, shape: readonly number[]): void {
  const rank = dims.length;
  const fail = (what: string) => bad(`input '${name}': ${what}: ${RULE} ${formatShape(shape)}`);
  const first: number[] = [];
  let node: unknown = data;
  while (Array.isArray(node) && node.length > 0 && first.length <= rank) {
    node = node[0];
    first.push(0);
    const isArray = Array.isArray(node);
    if (first.length < rank && !isArray) throw fail(`${pathOf(first)} is ${describeElement(node)} but the shape ${formatShape(shape)} has ${dimensions(shape)}`);
    if (first.length === rank && isArray) throw fail(`${pathOf(first)} is an array but the shape ${formatShape(shape)} has ${dimensions(shape)}`);
  }
  // Depth-first over the arrays; `indices[d]` is the index of the current item at depth d.
  const stack: (readonly unknown[])[] = [data];
  const indices: number[] = [];
  const length = (array: readonly unknown[], depth: number) => {
    if (array.length !== dims[depth]) {
      const where = depth === 0 ? 'data' : pathOf(indices);
      throw fail(`${where} has ${array.length} elements but the shape ${formatShape(shape)} needs ${dims[depth]} in dimension ${depth}`);
    }
  };
  length(data, 0);
  indices.push(-1);
  while (stack.length > 0) {
    const depth = stack.length - 1;
    const array = stack[depth] as readonly unknown[];
    if (depth === rank - 1) {
      // The innermost arrays hold the elements.
      for (let i = 0; i < array.length; i++) {
        if (Array.isArray(array[i])) {
          indices[depth] = i;
          const reference = i > 0 ? [...indices.slice(0, depth), 0] : first;
          throw fail(`${pathOf(indices)} is an array but ${pathOf(reference)} is ${describeElement(elementAt(data, reference))}`);
        }
      }
      stack.pop();
      indices.pop();
      continue;
    }
    const i = (indices[depth] as number) + 1;
    if (i === array.length) {
      stack.pop();
      indices.pop();
      continue;
    }
    indices[depth] = i;
    const child = array[i];
    if (!Array.isArray(child)) {
      const reference = i > 0 ? [...indices.slice(0, depth), 0] : first.slice(0, depth + 1);
      throw fail(`${pathOf(indices)} is ${describeElement(child)} but ${pathOf(reference)} is an array`);
    }
    length(child, depth + 1);
    stack.push(child);
    indices.push(-1);
  }
}

/** Calls `visit` with each innermost array of `data` (checked by checkNesting), in row-major order, iteratively. */
function forEachRow(data: readonly unknown[], rank: number, visit: (row: readonly unknown[]) => void): void {
  if (rank === 1) {
    visit(data);
    return;
  }
  const stack: (readonly unknown[])[] = [data];
  const indices: number[] = [0];
  while (stack.length > 0) {
    const depth = stack.length - 1;
    const array = stack[depth] as readonly unknown[];
    const i = indices[depth] as number;
    if (i === array.length) {
      stack.pop();
      indices.pop();
      continue;
    }
    indices[depth] = i + 1;
    const child = array[i] as readonly unknown[];
    if (depth + 1 === rank - 1) visit(child);
    else {
      stack.push(child);
      indices.push(0);
    }
  }
}

/** Turns one JSON element into the stored element, or throws a 400 naming it. */
type Checker = (item: unknown, name: string, index: number) => number | bigint | string;

/** One checker per datatype, built once from the datatype table. */
const CHECKERS = new Map<string, Checker>(ALL_DATATYPES.map((info) => [info.datatype, checkerFor(info)]));

function checkerFor(info: DatatypeInfo): Checker {
  const fail = (item: unknown, name: string, index: number, expected: string): never => {
    throw bad(`input '${name}': element ${index} is ${quote(item)}, expected ${expected} for ${info.datatype}`);
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
