/**
 * How a loaded model's calls reach it: the batching chosen at load (tensors stacked along the batch dimension, records
 * merged into one predictBatch, or every call alone) and the queue that enforces its limits and deadlines. Built once
 * per load, so nothing here is decided per request.
 */
import type { CallContext, RunStop } from '../call-context.js';
import { Batcher, type BatchObserver } from './batcher.js';
import { stacksAlongFirstDim, tensorJob } from './tensor-batch.js';
import { defaultConcurrency, type ServingSettings } from '../config/serving.js';
import { InferenceError, QueueFullError, type ModelNotReadyError } from '../errors.js';
import type { ModelObserver, ModelOperation } from '../metrics/catalogue.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import type { Tensor, TensorSignature } from '../tensors/tensor.js';
import { modelExecutor, type ModelJob } from './model-jobs.js';
import { ATTR } from '../tracing/span.js';

/**
 * The context of a predictBatch() that merges several requests' records: nothing the requests do not share (each one's
 * deadline and cancellation are kept by the queue, which answers each caller on its own).
 */
const MERGED_BATCH: CallContext = Object.freeze({});

/** How a model's calls share model runs. */
export type BatchingKind = 'tensors' | 'records' | 'none';

/** A loaded model's queue as the rest of the server sees it (`ServedModel.queue`). */
export interface ModelQueue {
  /** Rows waiting (not counting batches running). */
  readonly queuedRows: number;
  /** Batches running now. */
  readonly running: number;
  /**
   * Whether the queue is full: a request arriving now would be refused whatever its size (at least one row), so the
   * HTTP layer refuses it before reading its body (src/http/admission.ts). One comparison.
   */
  readonly full: boolean;
  /**
   * The 503 for a request refused on arrival because the queue is full: the batcher's own message and Retry-After,
   * counted as the batcher counts its refusals (`longshore_rejected_requests_total{reason="queue_full"}`) and, when
   * the request is a call the model's metrics count (`operation`), as a call failed with QueueFullError.
   */
  refuseOnArrival(operation: ModelOperation | undefined): QueueFullError;
  /** `model 'x': 2 of 2 calls stuck past their deadline` while every call slot is stuck (batching/slots.ts). */
  stuckProblem(): string | undefined;
  /** The 503 ModelNotReadyError (with Retry-After) a call gets while every call slot is stuck. */
  stuckRefusal(): ModelNotReadyError | undefined;
}

export class CallPlan implements ModelQueue {
  readonly batching: BatchingKind;
  /** How the model is batched, when that differs from what was asked; shown with the model's own notes. */
  readonly notes: string[] = [];
  /** The queue: rows waiting and batches running. */
  readonly queue: Batcher<ModelJob, unknown>;
  /** Every output of the signature, in order (what a REST call returns). */
  readonly #allOutputs: string[];
  readonly #infer: ((inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]) => Promise<Tensor[]>) | undefined;

  /** Picks how calls are batched, now that the model is loaded and its signature known. */
  constructor(
    private readonly model: RuntimeModel,
    private readonly name: string,
    private readonly serving: ServingSettings,
    observer: BatchObserver | undefined,
    private readonly modelObserver?: ModelObserver,
    version?: string,
  ) {
    const signature = model.signature;
    let batching: BatchingKind = 'none';
    if (serving.policy !== 'off') {
      if (model.infer && signature && stacksAlongFirstDim(signature)) batching = 'tensors';
      else if (!model.infer && model.predictBatch) batching = 'records';
      else {
        this.notes.push(
          model.infer
            ? `batching.policy ${serving.policy} is set, but the model's tensors do not all have a dynamic first (batch) dimension, so each request runs alone`
            : `batching.policy ${serving.policy} is set, but the model has no predictBatch(), so each request runs alone`,
        );
      }
    }
    this.batching = batching;
    this.#allOutputs = signature?.outputs.map((output) => output.name) ?? [];
    this.#infer = model.infer?.bind(model);
    const executor = modelExecutor({ infer: this.#infer, predictRecords: (records, stop) => this.#runRecords(records, MERGED_BATCH, stop) });
    this.queue = new Batcher(executor, {
      policy: batching === 'none' ? 'off' : serving.policy,
      maxBatchSize: serving.maxBatchSize,
      maxLatencyMs: serving.maxLatencyMs,
      maxQueueSize: serving.maxQueueSize,
      maxConcurrency: serving.maxConcurrency ?? defaultConcurrency(batching !== 'none'),
      label: `model '${name}'`,
      observer,
      traceAttributes: { [ATTR.model]: name, [ATTR.modelVersion]: version },
    });
  }

  get queuedRows(): number {
    return this.queue.queuedRows;
  }

  get running(): number {
    return this.queue.running;
  }

  get full(): boolean {
    return this.queue.full;
  }

  refuseOnArrival(operation: ModelOperation | undefined): QueueFullError {
    if (operation !== undefined) this.modelObserver?.called(operation, 'QueueFullError');
    return this.queue.refuseFull();
  }

  stuckProblem(): string | undefined {
    return this.queue.stuckProblem();
  }

  stuckRefusal(): ModelNotReadyError | undefined {
    return this.queue.stuckRefusal();
  }

  /** Whether the model runs tensors itself (ONNX). */
  get runsTensors(): boolean {
    return this.#infer !== undefined;
  }

  /** Checked tensors through the model's own tensor call: stacked with other callers' when the model batches tensors. */
  runTensors(signature: TensorSignature, byName: ReadonlyMap<string, Tensor>, outputs: readonly string[], rows: number, context: CallContext): Promise<Tensor[]> {
    const infer = this.#infer;
    if (!infer) throw new Error(`model '${this.name}' has no tensor call`);
    const job: ModelJob =
      this.batching === 'tensors' ? { kind: 'tensors', job: tensorJob(signature, byName, outputs) } : { kind: 'call', rows, call: () => infer(byName, outputs) };
    return this.#submit(job, context) as Promise<Tensor[]>;
  }

  /** One validated record through the model's queue (a /prediction): predict(), or a row of a tensor batch. */
  async predictOne(record: unknown, context: CallContext): Promise<unknown> {
    const [output] = await this.#predict([record], false, context);
    return output;
  }

  /**
   * Validated records through the model's queue, as this model batches: stacked into tensors (REST and V2 callers share
   * batches), merged with other callers' records into one predictBatch, or as a call of its own. Errors about a record
   * name its index in `records` (`/3/x`), as a /predictions body is indexed.
   */
  predictMany(records: unknown[], context: CallContext): Promise<unknown[]> {
    if (records.length === 0) return Promise.resolve([]); // an empty /predictions body: nothing to queue or run
    return this.#predict(records, true, context);
  }

  async #predict(records: unknown[], many: boolean, context: CallContext): Promise<unknown[]> {
    const { recordCodec: codec, signature } = this.model;
    if (this.batching === 'tensors' && codec && signature) {
      const job = tensorJob(signature, codec.toTensors(records, many), this.#allOutputs);
      return codec.toRecords((await this.#submit({ kind: 'tensors', job }, context)) as Tensor[], records.length);
    }
    if (this.batching === 'records') return (await this.#submit({ kind: 'records', records }, context)) as unknown[];
    // A call of its own carries the caller's context (a graph routes by its headers and passes its deadline on).
    const call: (stop?: RunStop) => Promise<unknown[]> = many
      ? (stop) => this.#runRecords(records, context, stop)
      : async (stop) => [await this.model.predict(records[0], context, stop)];
    return (await this.#submit({ kind: 'call', rows: records.length, call }, context)) as unknown[];
  }

  /** The model's own batch call: predictBatch, or predict per record; exactly one output per record. */
  async #runRecords(records: unknown[], context: CallContext, stop?: RunStop): Promise<unknown[]> {
    const outputs = this.model.predictBatch
      ? await this.model.predictBatch(records, context, stop)
      : // async wrapper: a predict() that throws synchronously must not orphan the promises already made.
        await Promise.all(records.map(async (input) => this.model.predict(input, context, stop)));
    if (!Array.isArray(outputs) || outputs.length !== records.length) {
      throw new InferenceError(
        `model '${this.name}' returned ${Array.isArray(outputs) ? `${outputs.length} outputs` : 'a non-array'} for a batch of ${records.length} inputs`,
      );
    }
    return outputs;
  }

  #submit(job: ModelJob, context: CallContext): Promise<unknown> {
    return this.queue.submit(job, { timeoutMs: effectiveTimeout(this.serving.timeoutMs, context.timeoutMs), signal: context.signal, span: context.span, timing: context.timing });
  }
}

/** The shorter of the model's timeout and the client's (either may be absent or 0 for none). */
function effectiveTimeout(model: number, client: number | undefined): number | undefined {
  if (client === undefined || client <= 0) return model > 0 ? model : undefined;
  return model > 0 ? Math.min(model, client) : client;
}
