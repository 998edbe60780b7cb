/**
 * The jobs a served model's batcher runs, and the one executor for them. A model gets batches of the kind it can merge:
 * tensors (models with a native tensor call whose rows lie along the first dimension: ONNX), records (code models with
 * batching on), or opaque calls that always run alone (batching off, or a model whose calls cannot be merged).
 */
import type { RunStop } from '../call-context.js';
import type { BatchExecutor } from './batcher-types.js';
import { tensorExecutor, type TensorJob } from './tensor-batch.js';
import type { Tensor } from '../tensors/tensor.js';

export type ModelJob =
  | { readonly kind: 'tensors'; readonly job: TensorJob }
  | { readonly kind: 'records'; readonly records: readonly unknown[] }
  | { readonly kind: 'call'; readonly rows: number; readonly call: (stop?: RunStop) => Promise<unknown> };

export interface ModelRuns {
  /** The model's native tensor call, when it has one. */
  readonly infer?: (inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]) => Promise<Tensor[]>;
  /** Predicts records in one call (the model's predictBatch, or predict per record). */
  readonly predictRecords: (records: unknown[], stop?: RunStop) => Promise<unknown[]>;
}

export function modelExecutor(calls: ModelRuns): BatchExecutor<ModelJob, unknown> {
  const tensors = calls.infer ? tensorExecutor(calls.infer) : undefined;
  return {
    rows(job) {
      if (job.kind === 'tensors') return job.job.rows;
      return job.kind === 'records' ? job.records.length : job.rows;
    },
    key(job) {
      if (job.kind === 'tensors') return `t:${job.job.key}`;
      return job.kind === 'records' ? 'r' : undefined;
    },
    // Every job of a batch has the same key, so the same kind.
    async run(jobs, stop) {
      const first = jobs[0] as ModelJob;
      if (first.kind === 'call') return [await first.call(stop)];
      if (first.kind === 'tensors') {
        if (!tensors) throw new Error('tensor jobs need a model with a tensor call');
        return tensors.run(jobs.map((job) => (job as Extract<ModelJob, { kind: 'tensors' }>).job));
      }
      const groups = jobs.map((job) => (job as Extract<ModelJob, { kind: 'records' }>).records);
      const outputs = await calls.predictRecords(groups.flat(), stop);
      let offset = 0;
      return groups.map((records) => {
        const mine = outputs.slice(offset, offset + records.length);
        offset += records.length;
        return mine;
      });
    },
  };
}
