/** Tensor data as the caller or a JSON body gives it (typed arrays, plain values, nested or flat) → the datatype's typed storage. */
import { datatypeInfo, type DatatypeInfo, type TensorData } from '../tensors/datatypes.js';
import { toHalfBits } from '../tensors/float16.js';
import type { PlainData, PlainElement } from './types.js';

/** The entry for `datatype`; a TypeError names the tensor when the datatype is unknown. */
export function requireDatatype(datatype: string, what: string): DatatypeInfo {
  const info = datatypeInfo(datatype);
  if (!info) throw new TypeError(`${what}: unknown datatype ${JSON.stringify(datatype)}`);
  return info;
}

/**
 * `data` in the storage of `info`'s datatype: a typed array of that kind is used as it is (no copy); any other typed
 * array or plain values (flat or nested) are converted element by element.
 */
export function toStorage(data: TensorData | PlainData, info: DatatypeInfo, what: string): TensorData {
  if (ArrayBuffer.isView(data)) {
    if (info.datatype === 'BYTES') throw new TypeError(`${what}: BYTES data must be an array of strings, got a ${data.constructor.name}`);
    if (data.constructor === info.allocate(0).constructor) return data;
    return fromElements(data as ArrayLike<number | bigint>, info, what);
  }
  if (!Array.isArray(data)) throw new TypeError(`${what}: data must be a typed array or an array of values`);
  return fromElements((data as PlainData).flat(Infinity as 1) as PlainElement[], info, what);
}

/** Copies `values` into new storage; `null` (a non-finite float in JSON) becomes NaN. */
export function fromElements(values: ArrayLike<PlainElement | null>, info: DatatypeInfo, what: string): TensorData {
  const target = info.allocate(values.length) as unknown[];
  for (let i = 0; i < values.length; i++) target[i] = element(values[i] as PlainElement | null, info, what, i);
  return target as unknown as TensorData;
}

const INT64_RANGE = { INT64: [-(2n ** 63n), 2n ** 63n - 1n], UINT64: [0n, 2n ** 64n - 1n] } as const;

function element(value: PlainElement | null, info: DatatypeInfo, what: string, index: number): number | bigint | string {
  const { datatype } = info;
  switch (datatype) {
    case 'BYTES':
      if (typeof value === 'string') return value;
      break;
    case 'BOOL':
      if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'bigint') return value ? 1 : 0;
      break;
    case 'INT64':
    case 'UINT64': {
      // Strings are digits a JSON number could not carry exactly (see lossless-json.ts).
      const big = typeof value === 'bigint' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? BigInt(value) : Number.isInteger(value) ? BigInt(value as number) : undefined;
      const [min, max] = INT64_RANGE[datatype];
      if (big !== undefined && big >= min && big <= max) return big;
      break;
    }
    case 'FP16':
    case 'FP32':
    case 'FP64': {
      const number = value === null ? Number.NaN : numeric(value);
      if (number !== undefined) return datatype === 'FP16' ? toHalfBits(number) : number;
      break;
    }
    default: {
      // 8- to 32-bit integers are range-checked: a typed array would wrap or truncate them silently.
      const { minimum, maximum } = info.elementSchema as { minimum: number; maximum: number };
      const number = numeric(value);
      if (number !== undefined && Number.isInteger(number) && number >= minimum && number <= maximum) return number;
    }
  }
  throw new TypeError(`${what}: element ${index} (${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)}) is not a ${datatype} value`);
}

/** A number from a number, bigint, boolean or numeric string (the digits lossless-json.ts keeps); undefined otherwise. */
function numeric(value: PlainElement | null): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'boolean') return Number(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return undefined;
}
