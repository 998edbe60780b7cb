/**
 * The model as the runtimes hand it to the server: the public `Model` (model/contract.ts) plus the tensor view that
 * only a runtime provides (the ONNX runtime: the graph's signature, a tensor call, records ⇄ tensors). Users never
 * implement these members; a class from `class_path` is a RuntimeModel without them. Types only. The tensor view may be
 * known only after `load()`, so its members may be present and still undefined.
 */
import type { CallContext, Model } from '../model/contract.js';
import type { Tensor, TensorSignature } from '../tensors/tensor.js';
import type { ModelMemory } from '../wire.js';

export type { ModelMemory } from '../wire.js';

export interface RuntimeModel<Input = unknown, Output = unknown> extends Model<Input, Output> {
  /**
   * The tensor view for the Open Inference Protocol. ONNX models have one (their graph); a record model without one
   * gets one derived from its schemas (one column per top-level field).
   */
  readonly signature?: TensorSignature | undefined;
  /** Runs request tensors (already checked against `signature`) and returns the named outputs, in that order. */
  infer?(inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): Promise<Tensor[]>;
  /**
   * For tensor models whose rows lie along the first dimension (ONNX): how records become input tensors and output
   * tensors records again. With it, REST requests join the same batches as Open Inference Protocol requests.
   */
  readonly recordCodec?: RecordTensorCodec | undefined;
  /** The serving layer passes `stop` (see RunStop); a user's class ignores the extra argument. */
  predict(input: Input, context?: CallContext, stop?: RunStop): Promise<Output> | Output;
  predictBatch?(inputs: Input[], context?: CallContext, stop?: RunStop): Promise<Output[]> | Output[];
  /**
   * What the model holds (ONNX: its sessions, estimated; worker threads: their heaps), read for its metadata and the
   * `longshore_model_memory_bytes` gauge. Absent: not measured (a code model on the main thread).
   */
  memory?(): Promise<ModelMemory> | ModelMemory;
}

/**
 * Aborts once every caller of a running call was answered at its deadline (batching/cancel-signal.ts): a runtime that
 * can end the call (a worker thread, terminated and replaced) does; the signal is made on first read.
 */
export interface RunStop {
  readonly signal: AbortSignal;
}

/** Records to tensors and back, for a model whose tensors carry one row per record along their first dimension. */
export interface RecordTensorCodec {
  /**
   * Stacks records (already schema-valid) into the model's input tensors. With `indexed`, an error about a record names
   * its index (`/3/x`, as in a /predictions body); without, the record is a request's only one (`/x`).
   */
  toTensors(records: readonly unknown[], indexed: boolean): Map<string, Tensor>;
  /** Cuts output tensors (every output of the signature, in its order) into `count` records. */
  toRecords(outputs: readonly Tensor[], count: number): unknown[];
}
