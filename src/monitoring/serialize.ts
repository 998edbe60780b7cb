/**
 * One prediction event → one JSON object (a line of the log). Tensors (V2 `infer`) become `{name, datatype, shape,
 * data}` with plain arrays; 64-bit integers become numbers when JSON carries them exactly, decimal strings otherwise;
 * typed arrays and bigints anywhere else in a code model's records are converted the same way.
 */
import type { PredictionEvent, PredictionTiming } from './events.js';
import { datatypeInfo, MAX_SAFE_INT64 } from '../tensors/datatypes.js';
import type { Tensor } from '../tensors/tensor.js';
import type { MonitoringInclude } from './settings.js';

/** A record of the prediction log, as written. */
export interface PredictionRecord {
  readonly timestamp: string;
  readonly request_id: string | null;
  readonly model: string;
  readonly version: string;
  readonly operation: string;
  readonly inputs?: unknown;
  readonly outputs?: unknown;
  readonly error?: { readonly type: string; readonly message: string };
  readonly latency_us: number;
  readonly metrics?: Record<string, number>;
  readonly timing?: PredictionTiming;
}

const MAX_SAFE_BIGINT = BigInt(MAX_SAFE_INT64);

export function toRecord(event: PredictionEvent, include: MonitoringInclude): PredictionRecord {
  const tensors = event.operation === 'infer';
  return {
    timestamp: new Date(event.timestamp).toISOString(),
    request_id: event.requestId ?? null,
    model: event.model,
    version: event.version,
    operation: event.operation,
    ...(include !== 'outputs' ? { inputs: tensors ? tensorsToJson(event.inputs) : event.inputs } : {}),
    ...(event.error !== undefined
      ? { error: { type: event.error.type, message: event.error.message } }
      : include !== 'inputs'
        ? { outputs: tensors ? tensorsToJson(event.outputs) : event.outputs }
        : {}),
    // Whole microseconds, never rounded down to 0: a sub-microsecond call still took time.
    latency_us: Math.max(1, Math.round(event.latencyUs)),
    ...(event.metrics !== undefined ? { metrics: event.metrics } : {}),
    ...(event.timing !== undefined ? { timing: event.timing } : {}),
  };
}

/** The JSON text of one record; throws when a code model's value cannot be written (a cycle, a throwing toJSON). */
export function serializeEvent(event: PredictionEvent, include: MonitoringInclude): string {
  return JSON.stringify(toRecord(event, include), replacer);
}

function tensorsToJson(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item) => (isTensor(item) ? tensorToJson(item) : item));
}

function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && 'datatype' in value && 'shape' in value && 'data' in value && 'name' in value;
}

/** `{name, datatype, shape, data}` with flat data as a plain array of JSON values (the element table's toJson). */
export function tensorToJson(tensor: Tensor): { name: string; datatype: string; shape: number[]; data: unknown[] } {
  const info = datatypeInfo(tensor.datatype);
  const data = tensor.data as ArrayLike<number | bigint | string>;
  const out = new Array<unknown>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = info ? info.toJson(data[i] as number | bigint | string) : jsonScalar(data[i]);
  return { name: tensor.name, datatype: tensor.datatype, shape: [...tensor.shape], data: out };
}

function jsonScalar(value: unknown): unknown {
  return typeof value === 'bigint' ? bigintToJson(value) : value;
}

function bigintToJson(value: bigint): number | string {
  return value <= MAX_SAFE_BIGINT && value >= -MAX_SAFE_BIGINT ? Number(value) : value.toString();
}

/** JSON.stringify's replacer: bigints and typed arrays (anywhere in a code model's values) as JSON can carry them. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return bigintToJson(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = value as unknown as ArrayLike<number | bigint>;
    return Array.from(items, (item) => (typeof item === 'bigint' ? bigintToJson(item) : item));
  }
  return value;
}
