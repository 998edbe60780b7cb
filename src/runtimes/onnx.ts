/**
 * The ONNX runtime: serves a `.onnx` file with onnxruntime-node and no user code. The graph signature becomes the
 * record schemas (and so the validation and the docs); a batch of records becomes one `session.run`.
 */
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import ort from 'onnxruntime-node';
import type { JsonSchema } from '../model/contract.js';
import { elementCount, jsonSafe, measureShape, readInstance, writeInstance } from '../tensors/codec.js';
import type { DatatypeInfo } from '../tensors/datatypes.js';
import type { Tensor, TensorSignature } from '../tensors/tensor.js';
import { createLocalSession, createWorkerSessions, WorkerSessions, type RunTensor, type SessionBackend } from './onnx-session.js';
import { WATCH_WORKERS, type WorkerRestart } from './worker-protocol.js';
import { readSignature, recordSchema, type OnnxSignature, type GraphTensor } from './onnx-signature.js';
import type { ModelMemory, RecordTensorCodec, RuntimeModel } from './runtime-model.js';

// onnxruntime prints session and kernel errors to stderr itself; longshore reports each one in its own log and in the
// model's status, so ORT's copies would only duplicate them.
ort.env.logLevel = 'fatal';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Session settings from the model's config entry. */
export interface OnnxSettings {
  readonly intraOpThreads: number;
  readonly interOpThreads?: number;
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
  readonly executionProviders: readonly string[];
  /** Graph outputs to fetch, in order; all tensor outputs when absent. */
  readonly outputs?: readonly string[];
  /** Worker threads with a session each; 0 runs the session on the main thread. */
  readonly workers?: number;
}

type OnnxRecord = Record<string, unknown>;

/** Name a model gets from its file: `./models/iris_logreg.onnx` → `iris_logreg` (characters unusable in URLs become `_`). */
export function nameFromPath(path: string): string {
  return basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'model';
}

export class OnnxModel implements RuntimeModel<OnnxRecord, OnnxRecord> {
  readonly qualified_name: string;
  readonly display_name: string;
  readonly description: string;
  readonly version = '1';
  /** Facts about how the model is served (outputs left out and why), shown in its metadata. */
  notes: string[] = [];
  readonly #path: string;
  readonly #settings: OnnxSettings;
  #session: SessionBackend | undefined;
  /** Told of each session thread replaced (workers: N); the assembly subscribes (WATCH_WORKERS). */
  #onRestart: ((restart: WorkerRestart) => void) | undefined;
  #signature: OnnxSignature | undefined;
  #fetches: string[] = [];
  /** How each fetched output's elements become JSON (floats' NaN/±Infinity as null), one per output, built at load. */
  #readers: readonly DatatypeInfo[] = [];
  #tensorSignature: TensorSignature | undefined;
  /** Served outputs by name, for V2 calls that name them. */
  #outputSpecs = new Map<string, OnnxSignature['outputs'][number]>();
  /** Records to tensors and back, set after load when the graph is batched (the serving layer batches with it). */
  #recordCodec: RecordTensorCodec | undefined;
  #inputSchema: JsonSchema | undefined;
  /** The model file's size when it was loaded: the floor of what one session holds (its initializers). */
  #fileBytes = 0;
  #outputSchema: JsonSchema | undefined;

  constructor(path: string, settings: OnnxSettings) {
    this.#path = path;
    this.#settings = settings;
    this.qualified_name = nameFromPath(path);
    this.display_name = this.qualified_name;
    this.description = `ONNX model ${basename(path)}`;
  }

  // Known only once the session exists; the registry reads them again after load().
  get input_schema(): JsonSchema {
    return this.#inputSchema as JsonSchema;
  }

  get output_schema(): JsonSchema {
    return this.#outputSchema as JsonSchema;
  }

  /** The graph's tensor view (-1 for dynamic dims), available after load. */
  get signature(): TensorSignature | undefined {
    return this.#tensorSignature;
  }

  /** How records become the graph's input tensors and its outputs records again; only for a batched graph. */
  get recordCodec(): RecordTensorCodec | undefined {
    return this.#recordCodec;
  }

  /** Ends one session thread as a crash would (`workers: N`; the tests check it is replaced and reported). */
  async terminateSessionThread(slot: number): Promise<void> {
    if (this.#session instanceof WorkerSessions) await this.#session.terminateThread(slot);
  }

  /** Reports each session thread replaced after load (`workers: N`), as the code models' pool does. */
  [WATCH_WORKERS](listener: (restart: WorkerRestart) => void): void {
    this.#onRestart = listener;
  }

  async load(): Promise<void> {
    this.#fileBytes = statSync(this.#path).size;
    const session = await createSession(this.#path, this.#settings);
    try {
      const signature = readSignature(session.inputMetadata, session.outputMetadata, this.#settings.outputs);
      this.#fetches = signature.outputs.map((output) => output.name);
      const readers = signature.outputs.map((output) => jsonSafe(output.info));
      this.#readers = readers;
      this.notes = signature.excluded.map((excluded) => excluded.reason);
      if (!signature.batched) {
        this.notes.push('the first dimension of the inputs is not dynamic, so each record runs on its own (no batching)');
      }
      this.#inputSchema = recordSchema(signature.inputs, 'input');
      this.#outputSchema = recordSchema(signature.outputs, 'output');
      this.#signature = signature;
      this.#outputSpecs = new Map(signature.outputs.map((output) => [output.name, output]));
      this.#tensorSignature = {
        platform: 'onnx_onnxv1',
        inputs: signature.inputs,
        outputs: signature.outputs,
      };
      this.#session = session;
      if (session instanceof WorkerSessions) session.onRestart = (restart) => this.#onRestart?.(restart);
      if (signature.batched) {
        this.#recordCodec = {
          toTensors: (records, indexed) => this.#toTensors(records as OnnxRecord[], indexed ? 0 : undefined),
          toRecords: (outputs, count) => toRecords(signature.outputs, readers, outputs, count, true),
        };
      }
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  async predict(input: OnnxRecord): Promise<OnnxRecord> {
    const outputs = await this.#run([input]);
    return outputs[0] as OnnxRecord;
  }

  async predictBatch(inputs: OnnxRecord[]): Promise<OnnxRecord[]> {
    if (this.#signature?.batched !== false) return this.#run(inputs, 0);
    const outputs: OnnxRecord[] = [];
    for (const [index, input] of inputs.entries()) outputs.push(...(await this.#run([input], index)));
    return outputs;
  }

  /** Runs request tensors as they are: one session.run, no records in between. */
  async infer(inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): Promise<Tensor[]> {
    const session = this.#session;
    const signature = this.#signature;
    if (!session || !signature) throw new Error(`ONNX model ${this.qualified_name} is not loaded`);
    const feeds: Record<string, RunTensor> = {};
    for (const spec of signature.inputs) {
      const input = inputs.get(spec.name) as Tensor;
      feeds[spec.name] = { type: spec.info.ort, data: input.data, dims: input.shape };
    }
    const results = await session.run(feeds, outputs);
    return outputs.map((name) => {
      const spec = this.#outputSpecs.get(name) as (typeof signature.outputs)[number];
      const tensor = results[name] as RunTensor;
      return { name, datatype: spec.datatype, shape: [...tensor.dims], data: tensor.data };
    });
  }

  /**
   * onnxruntime-node exposes no size for a session (no allocator statistics in its JavaScript API), so the estimate is
   * the file's bytes per live session: the initializers (the weights) dominate a session's memory; arenas for
   * intermediate tensors come on top and are not counted.
   */
  async memory(): Promise<ModelMemory> {
    const session = this.#session;
    if (!session) return { measured: false, bytes: {}, method: 'not loaded: holds no session' };
    const { sessions, workerHeap } = await session.memory();
    const bytes = { onnx_session: this.#fileBytes * sessions, ...(workerHeap === undefined ? {} : { worker_heap: workerHeap }) };
    const method =
      `onnx_session: an estimate, the model file's ${this.#fileBytes} bytes × ${sessions} live session(s) (onnxruntime-node reports no session size)` +
      (workerHeap === undefined ? '' : "; worker_heap: the V8 heap used by the session threads (v8.getHeapStatistics() in each)");
    return { measured: true, bytes, method };
  }

  async unload(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    this.#recordCodec = undefined;
    await session?.release();
  }

  /**
   * One session.run over `records`, stacked along the batch dimension when the model is batched. `firstIndex` is the
   * position of the first record in the caller's batch, so error paths name it (`/1/x`); absent for a single record.
   */
  async #run(records: readonly OnnxRecord[], firstIndex?: number): Promise<OnnxRecord[]> {
    const signature = this.#signature;
    if (!signature) throw new Error(`ONNX model ${this.qualified_name} is not loaded`);
    if (records.length === 0) return [];
    const outputs = await this.infer(this.#toTensors(records, firstIndex), this.#fetches);
    return toRecords(signature.outputs, this.#readers, outputs, records.length, signature.batched);
  }

  #toTensors(records: readonly OnnxRecord[], firstIndex: number | undefined): Map<string, Tensor> {
    const signature = this.#signature;
    if (!signature) throw new Error(`ONNX model ${this.qualified_name} is not loaded`);
    const tensors = new Map<string, Tensor>();
    for (const spec of signature.inputs) tensors.set(spec.name, stack(spec, records, signature.batched, firstIndex));
    return tensors;
  }
}

/** Builds one input tensor from the records' values of `spec`. */
function stack(spec: GraphTensor, records: readonly OnnxRecord[], batched: boolean, firstIndex: number | undefined): Tensor {
  const shape = spec.instanceShape.includes(-1) ? measureShape(records[0]?.[spec.name], spec.instanceShape.length) : spec.instanceShape;
  const perRecord = elementCount(shape);
  const data = spec.info.allocate(perRecord * records.length);
  let offset = 0;
  records.forEach((record, index) => {
    offset = writeInstance(record[spec.name], shape, spec.info, data, offset, spec.name, firstIndex === undefined ? '' : `/${firstIndex + index}`);
  });
  return { name: spec.name, datatype: spec.datatype, shape: batched ? [records.length, ...shape] : [...shape], data };
}

/**
 * Splits output tensors (in the order of `specs`) back into one record per input record, each element read with the
 * output's reader: a float element the graph computed as NaN or ±Infinity becomes `null` (the output schema allows it:
 * onnx-signature.ts), as in V2 JSON.
 */
function toRecords(
  specs: readonly GraphTensor[],
  readers: readonly DatatypeInfo[],
  tensors: readonly Tensor[],
  count: number,
  batched: boolean,
): OnnxRecord[] {
  const records: OnnxRecord[] = new Array<OnnxRecord>(count);
  for (let row = 0; row < count; row++) records[row] = {};
  for (let index = 0; index < specs.length; index++) {
    const spec = specs[index] as GraphTensor;
    const tensor = tensors[index] as Tensor;
    const dims = tensor.shape;
    if (batched && dims[0] !== count) {
      throw new Error(`output '${spec.name}' has ${dims[0]} rows for ${count} input records; it cannot be split per record`);
    }
    const shape = batched ? dims.slice(1) : dims;
    const perRecord = elementCount(shape);
    const reader = readers[index] as DatatypeInfo;
    for (let row = 0; row < count; row++) (records[row] as OnnxRecord)[spec.name] = readInstance(tensor.data, row * perRecord, shape, reader);
  }
  return records;
}

/** A session (or session threads) for an ONNX file, with the settings of its entry; failures carry a hint. */
export async function createSession(path: string, settings: OnnxSettings): Promise<SessionBackend> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: settings.intraOpThreads,
    executionProviders: [...settings.executionProviders],
    logSeverityLevel: 4,
  };
  if (settings.interOpThreads !== undefined) options.interOpNumThreads = settings.interOpThreads;
  if (settings.graphOptimizationLevel !== undefined) options.graphOptimizationLevel = settings.graphOptimizationLevel;
  try {
    const workers = settings.workers ?? 0;
    return workers > 0 ? await createWorkerSessions(path, options, workers) : await createLocalSession(path, options);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(`onnxruntime could not create a session for ${path}: ${message.trim()}${hintFor(message)}`);
  }
}

/** A hint for the session-creation failures seen in practice. */
export function hintFor(message: string): string {
  if (/locale/i.test(message)) {
    return (
      ' Hint: the model (a skl2onnx text pipeline) needs a locale this machine lacks, usually en_US.UTF-8. Re-export it with ' +
      "options={TfidfVectorizer: {'locale': 'C.UTF-8'}} (or CountVectorizer), or install the locale: " +
      'localedef -i en_US -f UTF-8 DIR/en_US.UTF-8 and start longshore with LOCPATH=DIR.'
    );
  }
  if (/protobuf parsing failed|invalid_argument.*model/i.test(message)) {
    return ' Hint: the file is not a valid ONNX model (corrupt or truncated?); export it again.';
  }
  if (/File doesn't exist|no such file/i.test(message)) return ' Hint: check model_path (relative paths start at the config file).';
  if (/Unsupported data type/i.test(message)) {
    return ' Hint: the model uses an element type onnxruntime-node cannot run (e.g. bfloat16, float8 or complex); export it with float32 or float16.';
  }
  if (/Could not find an implementation|not a registered function|No Op registered|Unsupported (op|model IR)|opset/i.test(message)) {
    return ' Hint: the model uses an operator or opset this onnxruntime (1.30) does not support; export it with a lower opset.';
  }
  return '';
}
