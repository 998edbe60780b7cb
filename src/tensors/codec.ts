/**
 * Record values ⇄ flat tensor data: a record field holds one instance as nested JSON arrays; a batch of records is one
 * row-major tensor whose first dimension is the batch.
 */
import { SchemaValidationError } from '../errors.js';
import { ALL_DATATYPES, type DatatypeInfo, type TensorData } from './datatypes.js';
import { formatShape } from './tensor.js';

/** The concrete shape of one nested-array value, following first elements `rank` levels down. */
export function measureShape(value: unknown, rank: number): number[] {
  const shape: number[] = [];
  let level = value;
  for (let depth = 0; depth < rank; depth++) {
    if (!Array.isArray(level)) break;
    shape.push(level.length);
    level = level[0];
  }
  // An empty array has no first element to follow; its inner dims are 0 (so [] for [N,A,B] is [0,0], rank kept).
  if (shape.length > 0 && shape[shape.length - 1] === 0) while (shape.length < rank) shape.push(0);
  return shape;
}

/** Number of elements in a shape. */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/**
 * Writes one instance (nested arrays of exactly `shape`) into `target` from `offset`, converting each element.
 * Returns the offset after the last element. Throws SchemaValidationError naming the field (and `record`, the JSON
 * pointer of the record in the request body, e.g. `/1` in a batch) on a ragged array.
 */
export function writeInstance(
  value: unknown,
  shape: readonly number[],
  info: DatatypeInfo,
  target: TensorData,
  offset: number,
  field: string,
  record = '',
): number {
  // The common case, one flat vector (iris's four measurements, an embedding): a plain loop.
  if (shape.length === 1 && Array.isArray(value) && value.length === shape[0]) {
    const out = target as unknown[];
    for (let i = 0; i < value.length; i++) out[offset + i] = info.fromJson(value[i]);
    return offset + value.length;
  }
  // The indices of the current position; a path string is built only if the value turns out ragged.
  return writeNode(value, 0, offset, { shape, info, target, field, record, at: [] });
}

interface WriteContext {
  readonly shape: readonly number[];
  readonly info: DatatypeInfo;
  readonly target: TensorData;
  readonly field: string;
  readonly record: string;
  readonly at: number[];
}

function writeNode(node: unknown, depth: number, next: number, context: WriteContext): number {
  const { shape, at } = context;
  if (depth === shape.length) {
    (context.target as unknown[])[next] = context.info.fromJson(node);
    return next + 1;
  }
  const length = shape[depth] as number;
  if (!Array.isArray(node) || node.length !== length) {
    throw raggedError(node, shape, depth, `${context.record}/${context.field}${at.map((i) => `/${i}`).join('')}`, context.field);
  }
  let cursor = next;
  for (let i = 0; i < length; i++) {
    at[depth] = i;
    cursor = writeNode(node[i], depth + 1, cursor, context);
  }
  at.length = depth;
  return cursor;
}

function raggedError(node: unknown, shape: readonly number[], depth: number, path: string, field: string): SchemaValidationError {
  const length = shape[depth] as number;
  const got = Array.isArray(node) ? `${node.length} items` : typeof node;
  return new SchemaValidationError(`input '${field}': expected shape ${formatShape(shape)} in every record, got ${got} at ${path}`, {
    details: [{ path, message: `must have ${length} items to match shape ${formatShape(shape)}` }],
  });
}

/** Reads one instance of `shape` from `source` at `offset` as nested JSON arrays (a bare element for shape []). */
export function readInstance(source: TensorData, offset: number, shape: readonly number[], info: DatatypeInfo): unknown {
  if (shape.length === 0) return info.toJson(source[offset] as number | bigint | string);
  return read(source, offset, shape, 0, info, stridesOf(shape));
}

function read(source: TensorData, offset: number, shape: readonly number[], depth: number, info: DatatypeInfo, strides: readonly number[]): unknown[] {
  const length = shape[depth] as number;
  const out = new Array<unknown>(length);
  if (depth === shape.length - 1) {
    for (let i = 0; i < length; i++) out[i] = info.toJson(source[offset + i] as number | bigint | string);
    return out;
  }
  const stride = strides[depth] as number;
  for (let i = 0; i < length; i++) out[i] = read(source, offset + i * stride, shape, depth + 1, info, strides);
  return out;
}

/**
 * `info` with a `toJson` that writes a float NaN or ±Infinity as `null` (JSON has neither), as V2 JSON writes them
 * (v2-json.ts); other datatypes are returned as they are. For record outputs built from tensors (REST answers).
 */
export function jsonSafe(info: DatatypeInfo): DatatypeInfo {
  return JSON_SAFE.get(info) ?? info;
}

/** The float datatypes' JSON-safe entries, built once at load: a call pays one lookup. */
const JSON_SAFE: ReadonlyMap<DatatypeInfo, DatatypeInfo> = new Map(
  ALL_DATATYPES.filter((info) => info.datatype === 'FP16' || info.datatype === 'FP32' || info.datatype === 'FP64').map((info) => {
    const toJson = info.toJson;
    const safe: DatatypeInfo = {
      ...info,
      toJson: (value) => {
        const number = toJson(value) as number;
        return Number.isFinite(number) ? number : null;
      },
    };
    return [info, safe];
  }),
);

/** Elements spanned by one step of each dimension (row-major). */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = (strides[i + 1] as number) * (shape[i + 1] as number);
  return strides;
}
