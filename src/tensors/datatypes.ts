/**
 * The one table of tensor element types: Open Inference Protocol datatype ⇄ onnxruntime type ⇄ typed array, with the
 * JSON Schema of one element and how a JSON value becomes an element and back.
 */
import { fromHalfBits, toHalfBits } from './float16.js';

/** Open Inference Protocol datatype names. */
export type Datatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'FP16' | 'FP32' | 'FP64' | 'BYTES';

/** onnxruntime-node tensor type names that longshore serves. */
export type OrtType =
  | 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64' | 'float16' | 'float32' | 'float64' | 'string';

/** What a tensor's flat data is held in. */
export type TensorData =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | string[];

export interface DatatypeInfo {
  readonly datatype: Datatype;
  readonly ort: OrtType;
  /** Bytes per element in the binary tensor format (BYTES: variable, 0 here). */
  readonly byteSize: number;
  /** Allocates flat storage for `length` elements. */
  readonly allocate: (length: number) => TensorData;
  /** JSON Schema of one element as it appears in JSON. */
  readonly elementSchema: Record<string, unknown>;
  /** JSON value (already schema-checked) → stored element. */
  readonly fromJson: (value: unknown) => number | bigint | string;
  /** Stored element → JSON value. */
  readonly toJson: (value: number | bigint | string) => unknown;
}

/**
 * JSON numbers are doubles, so 64-bit integers travel exactly only within ±(2^53 − 1). Inputs outside that range are
 * rejected; REST record outputs outside it are sent as decimal strings (`toJson`), and V2 JSON outputs are written with
 * all their digits (v2-json.ts), so nothing is silently rounded on the server.
 */
export const MAX_SAFE_INT64 = Number.MAX_SAFE_INTEGER;

/** The smallest magnitudes that round to Infinity in the narrow float types (anything below rounds to a finite value). */
const FP32_OVERFLOW = 2 ** 128 - 2 ** 103;
const FP16_OVERFLOW = 65520;

const MAX_SAFE_BIGINT = BigInt(MAX_SAFE_INT64);
const MIN_SAFE_BIGINT = -MAX_SAFE_BIGINT;

const asNumber = (value: unknown) => value as number;
const same = (value: number | bigint | string) => value;

function integer(datatype: Datatype, ort: OrtType, byteSize: number, allocate: (n: number) => TensorData, min: number, max: number): DatatypeInfo {
  return { datatype, ort, byteSize, allocate, elementSchema: { type: 'integer', minimum: min, maximum: max }, fromJson: asNumber, toJson: same };
}

function int64(datatype: Datatype, ort: OrtType, allocate: (n: number) => TensorData, min: number): DatatypeInfo {
  return {
    datatype,
    ort,
    byteSize: 8,
    allocate,
    elementSchema: {
      type: 'integer',
      minimum: min,
      maximum: MAX_SAFE_INT64,
      description: '64-bit integer; JSON carries it exactly within ±(2^53−1).',
    },
    fromJson: (value) => BigInt(value as number),
    toJson: (value) => {
      const big = value as bigint;
      return big <= MAX_SAFE_BIGINT && big >= MIN_SAFE_BIGINT ? Number(big) : big.toString();
    },
  };
}

const TABLE: readonly DatatypeInfo[] = [
  {
    datatype: 'BOOL',
    ort: 'bool',
    byteSize: 1,
    allocate: (n) => new Uint8Array(n),
    elementSchema: { type: 'boolean' },
    fromJson: (value) => (value ? 1 : 0),
    toJson: (value) => value !== 0,
  },
  integer('UINT8', 'uint8', 1, (n) => new Uint8Array(n), 0, 255),
  integer('UINT16', 'uint16', 2, (n) => new Uint16Array(n), 0, 65535),
  integer('UINT32', 'uint32', 4, (n) => new Uint32Array(n), 0, 4294967295),
  int64('UINT64', 'uint64', (n) => new BigUint64Array(n), 0),
  integer('INT8', 'int8', 1, (n) => new Int8Array(n), -128, 127),
  integer('INT16', 'int16', 2, (n) => new Int16Array(n), -32768, 32767),
  integer('INT32', 'int32', 4, (n) => new Int32Array(n), -2147483648, 2147483647),
  int64('INT64', 'int64', (n) => new BigInt64Array(n), -MAX_SAFE_INT64),
  {
    // Stored as raw IEEE half words (Node 20 has no Float16Array); JSON sees plain numbers.
    datatype: 'FP16',
    ort: 'float16',
    byteSize: 2,
    allocate: (n) => new Uint16Array(n),
    elementSchema: { type: 'number', exclusiveMinimum: -FP16_OVERFLOW, exclusiveMaximum: FP16_OVERFLOW },
    fromJson: (value) => toHalfBits(value as number),
    toJson: (value) => fromHalfBits(value as number),
  },
  {
    datatype: 'FP32',
    ort: 'float32',
    byteSize: 4,
    allocate: (n) => new Float32Array(n),
    // A larger JSON number would silently become Infinity in a Float32Array.
    elementSchema: { type: 'number', exclusiveMinimum: -FP32_OVERFLOW, exclusiveMaximum: FP32_OVERFLOW },
    fromJson: asNumber,
    toJson: same,
  },
  { datatype: 'FP64', ort: 'float64', byteSize: 8, allocate: (n) => new Float64Array(n), elementSchema: { type: 'number' }, fromJson: asNumber, toJson: same },
  {
    datatype: 'BYTES',
    ort: 'string',
    byteSize: 0,
    allocate: (n) => new Array<string>(n).fill(''),
    elementSchema: { type: 'string' },
    fromJson: (value) => value as string,
    toJson: same,
  },
];

/** Every datatype longshore serves. */
export const ALL_DATATYPES: readonly DatatypeInfo[] = TABLE;

const BY_ORT = new Map<string, DatatypeInfo>(TABLE.map((info) => [info.ort, info]));
const BY_DATATYPE = new Map<string, DatatypeInfo>(TABLE.map((info) => [info.datatype, info]));

/** The entry for an onnxruntime type, or undefined when longshore cannot serve it (bfloat16, 4-bit types). */
export function datatypeOfOrt(ort: string): DatatypeInfo | undefined {
  return BY_ORT.get(ort);
}

export function datatypeInfo(datatype: string): DatatypeInfo | undefined {
  return BY_DATATYPE.get(datatype);
}
