/**
 * Batching at the tensor level: requests whose tensors agree on everything but the first (batch) dimension are
 * concatenated along it into one model call, and each output is cut back into every request's own rows, with only the
 * outputs that request asked for. REST records of a tensor model become tensors first, so REST and V2 callers share
 * batches.
 */
import type { TensorData } from '../tensors/datatypes.js';
import type { Tensor, TensorSignature, TensorSpec } from '../tensors/tensor.js';
import type { BatchExecutor } from './batcher.js';

/** One request: its inputs (checked against the signature), the outputs it wants, and its rows (dim 0). */
export interface TensorJob {
  readonly inputs: ReadonlyMap<string, Tensor>;
  readonly outputs: readonly string[];
  readonly rows: number;
  /** Requests with equal keys stack: same inputs, datatypes and non-batch dimensions. */
  readonly key: string;
}

/** Whether a signature's tensors all carry rows along a dynamic first dimension, so requests can be concatenated. */
export function stacksAlongFirstDim(signature: TensorSignature): boolean {
  const batchedDim = (spec: { shape: readonly number[] }) => spec.shape.length >= 1 && spec.shape[0] === -1;
  return signature.inputs.length > 0 && signature.inputs.every(batchedDim) && signature.outputs.every(batchedDim);
}

/** The job for request tensors; the key lists every input's datatype and non-batch dims, in the signature's order. */
export function tensorJob(signature: TensorSignature, inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): TensorJob {
  const first = inputs.get((signature.inputs[0] as TensorSpec).name);
  const fixed = fixedKeys.get(signature) ?? fixedKeyOf(signature);
  // Checked requests of a model without dynamic inner dims always stack: their key is the signature's own.
  if (fixed !== '' && first && inputs.size === signature.inputs.length) return { inputs, outputs, rows: first.shape[0] ?? 0, key: fixed };
  let key = '';
  let rows = 0;
  for (const spec of signature.inputs) {
    const tensor = inputs.get(spec.name);
    if (!tensor) {
      key += `${spec.name}:absent;`;
      continue;
    }
    rows = tensor.shape[0] ?? 0;
    key += `${spec.name}:${tensor.datatype}[${tensor.shape.slice(1).join(',')}];`;
  }
  return { inputs, outputs, rows, key };
}

/** The key of every request of a signature whose inputs have no dynamic inner dims ('' when some have). */
const fixedKeys = new WeakMap<TensorSignature, string>();

function fixedKeyOf(signature: TensorSignature): string {
  const fixed = signature.inputs.every((spec) => !spec.optional && !spec.shape.slice(1).includes(-1))
    ? signature.inputs.map((spec) => `${spec.name}:${spec.datatype}[${spec.shape.slice(1).join(',')}];`).join('')
    : '';
  fixedKeys.set(signature, fixed);
  return fixed;
}

/** The executor over `infer` (the model's native tensor call): concatenate, run once, split. */
export function tensorExecutor(
  infer: (inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]) => Promise<Tensor[]>,
): BatchExecutor<TensorJob, Tensor[]> {
  return {
    rows: (job) => job.rows,
    key: (job) => job.key,
    async run(jobs) {
      if (jobs.length === 1) {
        const job = jobs[0] as TensorJob;
        return [await infer(job.inputs, job.outputs)];
      }
      const fetches = unionOfOutputs(jobs);
      const results = await infer(concatInputs(jobs), fetches);
      return splitOutputs(jobs, fetches, results);
    },
  };
}

/** Every output any job asked for, in first-asked order: one call fetches them all. */
function unionOfOutputs(jobs: readonly TensorJob[]): string[] {
  const names = new Set<string>();
  for (const job of jobs) for (const name of job.outputs) names.add(name);
  return [...names];
}

function concatInputs(jobs: readonly TensorJob[]): Map<string, Tensor> {
  const first = jobs[0] as TensorJob;
  const rows = jobs.reduce((sum, job) => sum + job.rows, 0);
  const merged = new Map<string, Tensor>();
  for (const [name, tensor] of first.inputs) {
    const parts = jobs.map((job) => (job.inputs.get(name) as Tensor).data);
    merged.set(name, { name, datatype: tensor.datatype, shape: [rows, ...tensor.shape.slice(1)], data: concatData(parts) });
  }
  return merged;
}

function concatData(parts: readonly TensorData[]): TensorData {
  const first = parts[0] as TensorData;
  if (Array.isArray(first)) return (parts as readonly string[][]).flat();
  let length = 0;
  for (const part of parts) length += part.length;
  const Typed = first.constructor as new (length: number) => Exclude<TensorData, string[]>;
  const merged = new Typed(length);
  let offset = 0;
  for (const part of parts as readonly Exclude<TensorData, string[]>[]) {
    // The parts have the same element type (the job key includes the datatype), so set() copies without conversion.
    (merged as { set(source: ArrayLike<number | bigint>, offset: number): void }).set(part, offset);
    offset += part.length;
  }
  return merged;
}

/** Cuts each output into the jobs' rows, giving every job only its own outputs, in the order it asked. */
function splitOutputs(jobs: readonly TensorJob[], fetches: readonly string[], results: readonly Tensor[]): Tensor[][] {
  const total = jobs.reduce((sum, job) => sum + job.rows, 0);
  const byName = new Map<string, Tensor>();
  fetches.forEach((name, index) => {
    const tensor = results[index];
    if (!tensor || tensor.shape[0] !== total) {
      throw new Error(`output '${name}' has ${tensor?.shape[0] ?? 'no'} rows for a batch of ${total}; it cannot be split per request`);
    }
    byName.set(name, tensor);
  });
  let firstRow = 0;
  return jobs.map((job) => {
    const outputs = job.outputs.map((name) => sliceRows(byName.get(name) as Tensor, firstRow, job.rows));
    firstRow += job.rows;
    return outputs;
  });
}

/** Rows [first, first+count) of a tensor; typed arrays are views, not copies. */
function sliceRows(tensor: Tensor, first: number, count: number): Tensor {
  const total = tensor.shape[0] as number;
  const perRow = total === 0 ? 0 : tensor.data.length / total;
  const start = first * perRow;
  const end = start + count * perRow;
  const data = Array.isArray(tensor.data) ? tensor.data.slice(start, end) : tensor.data.subarray(start, end);
  return { name: tensor.name, datatype: tensor.datatype, shape: [count, ...tensor.shape.slice(1)], data: data as TensorData };
}
