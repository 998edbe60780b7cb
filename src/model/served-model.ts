/**
 * One model as the server sees it: its metadata (after YAML overrides), its state machine, its compiled schema
 * validators, and guarded calls that validate input and output around the user's code.
 */
import type { Logger } from 'pino';
import { Batcher, type BatchObserver } from '../batching/batcher.js';
import { stacksAlongFirstDim, tensorJob } from '../batching/tensor-batch.js';
import { defaultConcurrency, type ServingSettings } from '../config/serving.js';
import type { ModelObserver, ModelOperation } from '../metrics/catalogue.js';
import { composeChain, decoratedSchemas, type DecoratedCall, type NamedDecorator } from '../decorators/chain.js';
import { InferenceError, LongshoreError, ModelNotReadyError, NotImplementedError, SchemaValidationError, type ErrorDetail } from '../errors.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import type { CallContext, ModelExample, ModelState } from './contract.js';
import type { ModelListing, ServedMetadata } from './metadata.js';
import { ModelOperations, type OperationDescription } from './operations.js';
import { exampleName, runExamples } from './self-test.js';
import { columnsOf, columnsToRecords, recordsToColumns, type ColumnSpec } from '../tensors/record-columns.js';
import { checkInputs, checkOutputs } from '../tensors/signature-check.js';
import type { Tensor, TensorSignature } from '../tensors/tensor.js';
import { modelExecutor, type ModelJob } from './model-jobs.js';
import { createSchemaCompiler, summarize, type RecordValidator, type SchemaRecord } from './validation.js';

/** The platform a record (code) model reports in its V2 metadata. */
export const RECORD_PLATFORM = 'longshore_records';

/** Most details one error carries: a body with a million bad elements must not get a response a hundred times its size. */
export const MAX_DETAILS = 100;

/** Seconds a client is told to wait while a model loads. */
export const LOADING_RETRY_AFTER_SECONDS = 2;

export interface ServedModelOptions {
  readonly metadata: ServedMetadata;
  readonly createEndpoint: boolean;
  readonly required: boolean;
  readonly logger: Logger;
  /** Called after every state change (the registry bumps its version so cached documents refresh). */
  readonly onStateChange: () => void;
  /** Batching, limits and timeout; without it, calls run one by one with no limit or deadline. */
  readonly serving?: ServingSettings;
  /** Receives the queue's measurements (the metrics catalogue). */
  readonly observer?: BatchObserver;
  /** Receives each call's outcome and the load time (the metrics catalogue). */
  readonly modelObserver?: ModelObserver;
  /** The prediction log (model monitoring), when it is on for this model. */
  readonly recorder?: PredictionRecorder;
  /** Wrappers around predict, outermost first (docs/decorators.md). */
  readonly decorators?: readonly NamedDecorator[];
  /** Self-tests from the config entry, run after the model's own (docs/self-tests.md). */
  readonly examples?: readonly ModelExample[];
}

/** One finished call, as the prediction log receives it. */
export interface PredictionEvent {
  /** Epoch milliseconds when the call started. */
  readonly timestamp: number;
  readonly requestId?: string;
  readonly model: string;
  readonly version: string;
  readonly operation: ModelOperation;
  /** The request as the model got it: one record, an array of records, or tensors. */
  readonly inputs: unknown;
  /** The answer, when the call succeeded. */
  readonly outputs?: unknown;
  readonly error?: { readonly type: string; readonly message: string };
  /** The whole call, queue included, in microseconds. */
  readonly latencyUs: number;
  /** What the model's metricsFor() returned for this call, if it has one. */
  readonly metrics?: Record<string, number>;
}

export interface PredictionRecorder {
  /** Asked once per call, before anything is built: whether this call is sampled into the log. */
  wants(): boolean;
  /** Takes a sampled call; must never throw or block (it buffers and writes later). */
  record(event: PredictionEvent): void;
}


/** Per-call settings from the client: deadline, cancellation, request id, headers (see CallContext). */
export type CallOptions = CallContext;

/** How a model's calls share model runs (decided at load, from its settings and what the model can merge). */
type BatchingKind = 'tensors' | 'records' | 'none';

const UNLIMITED: ServingSettings = {
  policy: 'off',
  maxBatchSize: 1,
  maxLatencyMs: 0,
  maxQueueSize: Number.POSITIVE_INFINITY,
  maxConcurrency: Number.POSITIVE_INFINITY,
  timeoutMs: 0,
};

export class ServedModel {
  readonly metadata: ServedMetadata;
  readonly createEndpoint: boolean;
  readonly required: boolean;
  readonly model: RuntimeModel;
  #state: ModelState = 'loading';
  #loading: Promise<void> | undefined;
  #error: string | undefined;
  #inputSchema: SchemaRecord | undefined;
  #outputSchema: SchemaRecord | undefined;
  /** What callers send and get: the model's schemas as its decorators present them (the model's own without any). */
  #validateInput: RecordValidator | undefined;
  #validateOutput: RecordValidator | undefined;
  /** The model's own schemas and validators; the same objects as the outer ones when there are no decorators. */
  #modelInputSchema: SchemaRecord | undefined;
  #modelOutputSchema: SchemaRecord | undefined;
  #validateModelInput: RecordValidator | undefined;
  #validateModelOutput: RecordValidator | undefined;
  readonly #decorators: readonly NamedDecorator[];
  /** predict through the decorators, when there are any. */
  #chain: DecoratedCall | undefined;
  #operations: ModelOperations | undefined;
  readonly #configExamples: readonly ModelExample[];
  /** The record schemas as tensor columns (the tensor view of a record model). */
  #inputColumns: ColumnSpec[] = [];
  /** The model's own input schema as columns (V2 explain, which is not decorated). */
  #modelInputColumns: ColumnSpec[] = [];
  #outputColumns: ColumnSpec[] = [];
  /** The columns as a signature, rebuilt only when a schema changes (it is read on every V2 call). */
  #recordSignature: TensorSignature | undefined;
  readonly #logger: Logger;
  readonly #onStateChange: () => void;
  readonly #serving: ServingSettings;
  readonly #observer: BatchObserver | undefined;
  readonly #modelObserver: ModelObserver | undefined;
  readonly #recorder: PredictionRecorder | undefined;
  #batcher: Batcher<ModelJob, unknown> | undefined;
  #batching: BatchingKind = 'none';
  /** Every output of the signature, in order (what a REST call returns), and the model's tensor call; set at load. */
  #allOutputs: string[] = [];
  #infer: ((inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]) => Promise<Tensor[]>) | undefined;
  /** How the model is batched, when that differs from what was asked; shown with the model's own notes. */
  #servingNotes: string[] = [];

  /** Compiles the schemas the model already exposes; throws if one is not a valid JSON Schema. */
  constructor(model: RuntimeModel, options: ServedModelOptions) {
    this.model = model;
    this.metadata = options.metadata;
    this.createEndpoint = options.createEndpoint;
    this.required = options.required;
    this.#logger = options.logger.child({ model: options.metadata.qualified_name, version: options.metadata.version });
    this.#onStateChange = options.onStateChange;
    this.#serving = options.serving ?? UNLIMITED;
    this.#observer = options.observer;
    this.#modelObserver = options.modelObserver;
    this.#recorder = options.recorder;
    this.#decorators = options.decorators ?? [];
    this.#configExamples = options.examples ?? [];
    if (this.#decorators.length > 0) this.#chain = composeChain(this.name, this.#decorators, (input, context) => this.#callModel(input, context));
    this.#modelObserver?.watchReady(() => this.#state === 'ready');
    this.#compileSchemas();
  }

  /** Facts about how the model is served: the model's own notes, then the batching decided at load. */
  get notes(): string[] {
    return [...(this.model.notes ?? []), ...this.#servingNotes];
  }

  /** The model's queue (after load): rows waiting and batches running. */
  get queue(): { readonly queuedRows: number; readonly running: number } | undefined {
    return this.#batcher;
  }

  get name(): string {
    return this.metadata.qualified_name;
  }

  get state(): ModelState {
    return this.#state;
  }

  /** Why the model failed to load, when it did. */
  get error(): string | undefined {
    return this.#error;
  }

  get inputSchema(): SchemaRecord | undefined {
    return this.#inputSchema;
  }

  get outputSchema(): SchemaRecord | undefined {
    return this.#outputSchema;
  }

  /**
   * The tensor view: the model's own (ONNX), else one column per top-level field of the record schemas. A decorated
   * model always has the record view of its outermost schemas, since its decorators work on records.
   */
  get signature(): TensorSignature | undefined {
    return this.#chain ? this.#recordSignature : (this.model.signature ?? this.#recordSignature);
  }

  /** The self-tests: the model's own examples, then the config entry's. */
  get examples(): readonly ModelExample[] {
    return [...(this.model.examples ?? []), ...this.#configExamples];
  }

  /**
   * The examples whose input is what callers send (OpenAPI request examples): the config entry's, and the class's own
   * unless decorators changed the input schema.
   */
  get requestExamples(): { readonly name: string; readonly input: unknown }[] {
    const own = this.model.examples ?? [];
    const named = this.examples.map((example, index) => ({ name: exampleName(example, index), input: example.input }));
    return this.#inputSchema === this.#modelInputSchema ? named : named.slice(own.length);
  }

  /** Whether the model answers explain. */
  get explains(): boolean {
    return typeof this.model.explain === 'function';
  }

  /** The model's custom operations with their schemas (known once it has loaded). */
  get operations(): OperationDescription[] {
    return this.#operations?.describe() ?? [];
  }

  listing(): ModelListing {
    return this.#error === undefined
      ? { ...this.metadata, status: this.#state }
      : { ...this.metadata, status: this.#state, error: this.#error };
  }

  /**
   * Runs the model's load(), then (re)compiles its schemas. Never throws: a failure moves the model to `failed`.
   * Idempotent: a ready model is not loaded again, a load in progress is shared, an unloaded model stays unloaded; only
   * a failed model is retried.
   */
  load(): Promise<void> {
    if (this.#state === 'ready' || this.#state === 'unloading' || this.#state === 'unloaded') return Promise.resolve();
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const started = performance.now();
    this.#setState('loading');
    this.#logger.info('model loading');
    try {
      for (const { decorator } of this.#decorators) await decorator.load?.();
      await this.model.load?.();
      if (this.#state !== 'loading') {
        // Shutdown unloaded the model while load() ran: release what the late load acquired, stay unloaded.
        await this.model.unload?.();
        this.#logger.info({ duration_ms: round(performance.now() - started) }, 'model finished loading after shutdown began; released again');
        return;
      }
      this.#compileSchemas();
      if (!this.#validateInput || !this.#validateOutput) {
        throw new Error('the model has no input_schema or output_schema after load(); both must be JSON Schema objects');
      }
      this.#operations = new ModelOperations(this.name, this.model.operations);
      this.#buildBatcher();
      const failures = await this.#runSelfTests(this.#validators());
      if (failures.length > 0) throw new Error(failures.join('; '));
      this.#modelObserver?.loaded((performance.now() - started) / 1000);
      this.#setState('ready');
      this.#logger.info({ duration_ms: round(performance.now() - started), batching: this.#batching, policy: this.#serving.policy }, 'model ready');
      for (const note of this.notes) this.#logger.warn({ note }, 'model served with a limitation');
    } catch (error) {
      if (this.#state !== 'loading') return;
      this.#error = (error as Error).message || String(error);
      this.#setState('failed');
      this.#logger.error({ err: error, duration_ms: round(performance.now() - started) }, 'model failed to load');
    }
  }

  /** Runs the model's unload(); errors are logged, not thrown, so shutdown always completes. */
  async unload(): Promise<void> {
    if (this.#state === 'unloaded') return;
    this.#setState('unloading');
    const started = performance.now();
    try {
      await this.model.unload?.();
    } catch (error) {
      this.#logger.error({ err: error, duration_ms: round(performance.now() - started) }, 'model failed to unload');
    }
    for (const { label, decorator } of this.#decorators) {
      try {
        await decorator.unload?.();
      } catch (error) {
        this.#logger.error({ err: error, decorator: label }, 'decorator failed to unload');
      }
    }
    this.#setState('unloaded');
    this.#logger.info({ duration_ms: round(performance.now() - started) }, 'model unloaded');
  }

  /** Validates one record, predicts, validates the output. */
  predict(input: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.#observed('predict', input, options, () => this.#predict(input, options));
  }

  /** Validates every record (reporting each failing one by index), predicts them as one batch, validates outputs. */
  predictBatch(inputs: readonly unknown[], options: CallOptions = {}): Promise<unknown[]> {
    return this.#observed('predict_batch', inputs, options, () => this.#predictBatch(inputs, options));
  }

  /**
   * Runs Open Inference Protocol tensors: checked against the signature first, then run natively (ONNX) or turned into
   * records, predicted as one batch (with the usual validation both ways) and turned back into columns.
   */
  infer(inputs: readonly Tensor[], requested: readonly string[] | undefined, options: CallOptions = {}): Promise<Tensor[]> {
    return this.#observed('infer', inputs, options, () => this.#inferTensors(inputs, requested, options));
  }

  /** Counts the call (and its failure reason) and hands a sampled call to the prediction log. */
  async #observed<T>(operation: ModelOperation, inputs: unknown, options: CallOptions, call: () => Promise<T>): Promise<T> {
    const sampled = this.#recorder?.wants() === true;
    const started = sampled ? performance.now() : 0;
    try {
      const outputs = await call();
      this.#modelObserver?.called(operation);
      if (sampled) this.#record(operation, inputs, options, started, outputs, undefined);
      return outputs;
    } catch (error) {
      const type = error instanceof LongshoreError ? error.type : 'InternalError';
      this.#modelObserver?.called(operation, type);
      if (sampled) this.#record(operation, inputs, options, started, undefined, error);
      throw error;
    }
  }

  #record(operation: ModelOperation, inputs: unknown, options: CallOptions, started: number, outputs: unknown, error: unknown): void {
    const latencyUs = Math.round((performance.now() - started) * 1000);
    let metrics: Record<string, number> | undefined;
    try {
      metrics = error === undefined ? this.model.metricsFor?.(inputs, outputs) : undefined;
    } catch (metricsError) {
      this.#logger.warn({ err: metricsError }, 'metricsFor() threw; the prediction is logged without its metrics');
    }
    const failure = error === undefined ? undefined : { type: error instanceof LongshoreError ? error.type : 'InternalError', message: (error as Error).message ?? String(error) };
    this.#recorder?.record({
      timestamp: Date.now() - latencyUs / 1000,
      ...(options.requestId === undefined ? {} : { requestId: options.requestId }),
      model: this.name,
      version: this.metadata.version,
      operation,
      inputs,
      ...(failure ? { error: failure } : { outputs }),
      latencyUs,
      ...(metrics ? { metrics } : {}),
    });
  }

  /** `validators` defaults to the ready model's; a self-test during load passes them itself. */
  async #predict(input: unknown, options: CallOptions, { validateInput, validateOutput } = this.#readyValidators()): Promise<unknown> {
    const problems = validateInput(input);
    if (problems) throw this.#inputError(problems);
    const output = this.#chain ? await this.#chain(input, options) : await this.#callModel(input, options);
    this.#checkOutput(validateOutput(output));
    return output;
  }

  /**
   * The model's own call for one record, through its queue. Behind decorators it also checks the record against the
   * model's own schemas: a decorator may hand on, or return, something the model's schemas do not allow.
   */
  async #callModel(input: unknown, options: CallOptions): Promise<unknown> {
    if (this.#chain) this.#checkDecorated('passed the model an input', this.#validateModelInput?.(input));
    const output = await this.#predictOne(input, options);
    if (this.#chain) this.#checkDecorated('got an output from the model', this.#validateModelOutput?.(output));
    return output;
  }

  /** One record through the model's queue, with what the model throws turned into a catalogue error. */
  async #predictOne(input: unknown, options: CallOptions): Promise<unknown> {
    try {
      const [output] = await this.#predictRecords([input], undefined, options);
      return output;
    } catch (error) {
      throw this.#modelThrew(error);
    }
  }

  #checkDecorated(what: string, problems: ErrorDetail[] | undefined): void {
    if (problems) {
      throw new InferenceError(`the decorators of model '${this.name}' ${what} that does not match the model's own schema: ${summarize(problems)}`, {
        details: problems.slice(0, MAX_DETAILS),
      });
    }
  }

  /**
   * Why the model answered what it did (the model's explain(); 501 without one). The input is checked against the
   * model's own input schema: explain is not decorated.
   */
  async explain(input: unknown, options: CallOptions = {}): Promise<unknown> {
    this.assertExplains();
    const explain = this.model.explain as NonNullable<RuntimeModel['explain']>;
    this.#readyValidators();
    const problems = this.#validateModelInput?.(input);
    if (problems) throw this.#inputError(problems);
    try {
      return await explain.call(this.model, input, options);
    } catch (error) {
      throw this.#modelThrew(error);
    }
  }

  /** Throws 501 NotImplementedError when the model has no explain(). */
  assertExplains(): void {
    if (typeof this.model.explain !== 'function') {
      throw new NotImplementedError(`model '${this.name}' does not implement explain; add an explain(input) method to its class (docs/operations.md)`);
    }
  }

  /**
   * explain for Open Inference Protocol tensors: the tensors become records of the model's own input schema (one column
   * per top-level field), each is explained, and the explanations come back as JSON text in a BYTES output
   * `explanation`, one per row.
   */
  async explainTensors(inputs: readonly Tensor[], options: CallOptions = {}): Promise<Tensor[]> {
    this.assertExplains();
    this.#readyValidators();
    const columns = this.#modelInputColumns;
    const byName = checkInputs(this.name, { platform: RECORD_PLATFORM, inputs: columns, outputs: [] }, inputs);
    const records = columnsToRecords(columns, byName);
    const explanations = await Promise.all(records.map((record) => this.explain(record, options)));
    return [{ name: 'explanation', datatype: 'BYTES', shape: [records.length], data: explanations.map((explanation) => JSON.stringify(explanation ?? null)) }];
  }

  /** Runs one of the model's custom operations (404 for one it does not have). */
  runOperation(operation: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    this.#readyValidators();
    return (this.#operations as ModelOperations).run(operation, input, options);
  }

  /** Runs the self-tests again (the deep readiness probe); one line per failing example, empty when all pass. */
  selfTest(): Promise<string[]> {
    if (this.#state !== 'ready') return Promise.resolve([]);
    return this.#runSelfTests(this.#readyValidators());
  }

  /**
   * The class's examples are in the model's own schema, so they go to the model itself, past its decorators; the config
   * entry's are what callers send, so they take the whole decorated path (caches stand aside: `selfTest`).
   */
  async #runSelfTests(validators: { validateInput: RecordValidator; validateOutput: RecordValidator }): Promise<string[]> {
    const own = this.model.examples ?? [];
    const direct = async (input: unknown) => {
      const problems = this.#validateModelInput?.(input);
      if (problems) throw this.#inputError(problems);
      const output = await this.#predictOne(input, { selfTest: true });
      this.#checkOutput(this.#validateModelOutput?.(output));
      return output;
    };
    return [
      ...(await runExamples(own, direct)),
      ...(await runExamples(this.#configExamples, (input) => this.#predict(input, { selfTest: true }, validators), own.length)),
    ];
  }

  /**
   * Checks records against the input schema, each failing one reported by index (`/3/x`); throws SchemaValidationError.
   * Also for operations that hand records to the model by another path (score()).
   */
  validateInputs(inputs: readonly unknown[]): void {
    this.#validateEach(inputs, this.#readyValidators().validateInput);
  }

  /** validateInputs against the model's own input schema (not its decorators'): for calls that reach the model itself. */
  validateModelInputs(inputs: readonly unknown[]): void {
    this.#readyValidators();
    this.#validateEach(inputs, this.#validateModelInput as RecordValidator);
  }

  #validateEach(inputs: readonly unknown[], validateInput: RecordValidator): void {
    const problems: ErrorDetail[] = [];
    for (const [index, input] of inputs.entries()) {
      for (const detail of validateInput(input) ?? []) problems.push({ ...detail, path: `/${index}${detail.path === '/' ? '' : detail.path}` });
      if (problems.length >= MAX_DETAILS) break; // enough to act on; the response stays small
    }
    if (problems.length > 0) throw this.#inputError(problems);
  }

  async #predictBatch(inputs: readonly unknown[], options: CallOptions): Promise<unknown[]> {
    const { validateOutput } = this.#readyValidators();
    this.validateInputs(inputs);
    let outputs: unknown[];
    const chain = this.#chain;
    if (chain) {
      // Decorators work on one record at a time; the records still meet again in the model's queue.
      outputs = await Promise.all(inputs.map((input) => chain(input, options)));
    } else {
      try {
        outputs = await this.#predictRecords([...inputs], 0, options);
      } catch (error) {
        throw this.#modelThrew(error);
      }
    }
    this.#checkOutput(outputs.flatMap((output, index) => (validateOutput(output) ?? []).map((d) => ({ ...d, path: `/${index}${d.path === '/' ? '' : d.path}` }))));
    return outputs;
  }

  async #inferTensors(inputs: readonly Tensor[], requested: readonly string[] | undefined, options: CallOptions): Promise<Tensor[]> {
    this.#readyValidators();
    const signature = this.signature;
    if (!signature) {
      throw new SchemaValidationError(`model '${this.name}' has no tensor view: its input and output schemas must be objects with properties`);
    }
    const byName = checkInputs(this.name, signature, inputs);
    const outputs = checkOutputs(this.name, signature, requested);
    // A decorated model runs its decorators on records, so its tensors take the record path below.
    const infer = this.#chain ? undefined : this.#infer;
    if (infer) {
      try {
        if (this.#batching === 'tensors') {
          return (await this.#submit({ kind: 'tensors', job: tensorJob(signature, byName, outputs) }, options)) as Tensor[];
        }
        const rows = inputs[0]?.shape[0] ?? 1;
        return (await this.#submit({ kind: 'call', rows, call: () => infer(byName, outputs) }, options)) as Tensor[];
      } catch (error) {
        throw this.#modelThrew(error);
      }
    }
    const records = await this.#predictBatch(columnsToRecords(this.#inputColumns, byName), options);
    const columns = outputs.map((name) => this.#outputColumns.find((column) => column.name === name) as ColumnSpec);
    return recordsToColumns(columns, records as Record<string, unknown>[]);
  }

  /**
   * Predicts validated records through the model's queue, as this model batches: stacked into tensors (REST and V2
   * callers share batches), merged with other callers' records into one predictBatch, or as a call of its own.
   * `firstIndex` places errors in a /predictions body; undefined for a single /prediction (which calls predict()).
   */
  async #predictRecords(records: unknown[], firstIndex: number | undefined, options: CallOptions): Promise<unknown[]> {
    if (records.length === 0) return []; // an empty /predictions body: nothing to queue or run
    const codec = this.model.recordCodec;
    const signature = this.model.signature;
    if (this.#batching === 'tensors' && codec && signature) {
      const job = tensorJob(signature, codec.toTensors(records, firstIndex), this.#allOutputs);
      return codec.toRecords((await this.#submit({ kind: 'tensors', job }, options)) as Tensor[], records.length);
    }
    if (this.#batching === 'records') return (await this.#submit({ kind: 'records', records }, options)) as unknown[];
    // A call of its own carries the caller's context (a graph routes by its headers and passes its deadline on).
    const call =
      firstIndex === undefined
        ? async () => [await this.model.predict(records[0], options)]
        : () => this.#runRecords(records, options);
    return (await this.#submit({ kind: 'call', rows: records.length, call }, options)) as unknown[];
  }

  /** The model's own batch call: predictBatch, or predict per record; exactly one output per record. */
  async #runRecords(records: unknown[], context?: CallContext): Promise<unknown[]> {
    const outputs = this.model.predictBatch
      ? await this.model.predictBatch(records)
      : // async wrapper: a predict() that throws synchronously must not orphan the promises already made.
        await Promise.all(records.map(async (input) => this.model.predict(input, context)));
    if (!Array.isArray(outputs) || outputs.length !== records.length) {
      throw new InferenceError(
        `model '${this.name}' returned ${Array.isArray(outputs) ? `${outputs.length} outputs` : 'a non-array'} for a batch of ${records.length} inputs`,
      );
    }
    return outputs;
  }

  #submit(job: ModelJob, options: CallOptions): Promise<unknown> {
    const batcher = this.#batcher;
    if (!batcher) throw this.#notReady();
    return batcher.submit(job, { timeoutMs: effectiveTimeout(this.#serving.timeoutMs, options.timeoutMs), signal: options.signal });
  }

  /** Picks how calls are batched, now that the model is loaded and its signature known. */
  #buildBatcher(): void {
    const serving = this.#serving;
    const signature = this.model.signature;
    this.#servingNotes = [];
    this.#batching = 'none';
    if (serving.policy !== 'off') {
      if (this.model.infer && signature && stacksAlongFirstDim(signature)) this.#batching = 'tensors';
      else if (!this.model.infer && this.model.predictBatch) this.#batching = 'records';
      else {
        this.#servingNotes.push(
          this.model.infer
            ? `batching.policy ${serving.policy} is set, but the model's tensors do not all have a dynamic first (batch) dimension, so each request runs alone`
            : `batching.policy ${serving.policy} is set, but the model has no predictBatch(), so each request runs alone`,
        );
      }
    }
    this.#allOutputs = signature?.outputs.map((output) => output.name) ?? [];
    this.#infer = this.model.infer?.bind(this.model);
    const executor = modelExecutor({
      infer: this.#infer,
      predictRecords: (records) => this.#runRecords(records),
    });
    this.#batcher = new Batcher(executor, {
      policy: this.#batching === 'none' ? 'off' : serving.policy,
      maxBatchSize: serving.maxBatchSize,
      maxLatencyMs: serving.maxLatencyMs,
      maxQueueSize: serving.maxQueueSize,
      maxConcurrency: serving.maxConcurrency ?? defaultConcurrency(this.#batching !== 'none'),
      label: `model '${this.name}'`,
      observer: this.#observer,
    });
  }

  /** Throws ModelNotReadyError (with Retry-After while loading) unless the model is ready. */
  assertReady(): void {
    this.#readyValidators();
  }

  #readyValidators(): { validateInput: RecordValidator; validateOutput: RecordValidator } {
    if (this.#state !== 'ready') throw this.#notReady();
    return this.#validators();
  }

  /** The compiled outer validators, whatever the state (a self-test runs them before the model is ready). */
  #validators(): { validateInput: RecordValidator; validateOutput: RecordValidator } {
    if (!this.#validateInput || !this.#validateOutput) throw this.#notReady();
    return { validateInput: this.#validateInput, validateOutput: this.#validateOutput };
  }

  #notReady(): ModelNotReadyError {
    switch (this.#state) {
      case 'loading':
        return new ModelNotReadyError(`model '${this.name}' is still loading; retry shortly`, { retryAfterSeconds: LOADING_RETRY_AFTER_SECONDS });
      case 'failed':
        return new ModelNotReadyError(`model '${this.name}' failed to load: ${this.#error ?? 'unknown error'}`);
      default:
        return new ModelNotReadyError(`model '${this.name}' is ${this.#state}: the server is shutting down`);
    }
  }

  #inputError(problems: ErrorDetail[]): SchemaValidationError {
    const details = problems.slice(0, MAX_DETAILS);
    return new SchemaValidationError(`input does not match the input schema of model '${this.name}': ${summarize(problems)}`, { details });
  }

  /**
   * A catalogue error raised inside the model keeps its type (e.g. a ragged array the schema could not rule out, or a
   * full queue); anything else is an InferenceError.
   */
  #modelThrew(error: unknown): LongshoreError {
    if (error instanceof LongshoreError) return error;
    // Shutdown unloaded the model under a call in flight: that is "not ready", not a failure of the model.
    if (this.#state === 'unloading' || this.#state === 'unloaded') return this.#notReady();
    const reason = error instanceof Error ? error.message : String(error);
    return new InferenceError(`model '${this.name}' failed to predict: ${reason}`, { cause: error });
  }

  #checkOutput(problems: ErrorDetail[] | undefined): void {
    if (problems && problems.length > 0) {
      throw new InferenceError(`model '${this.name}' returned output that does not match its output schema: ${summarize(problems)}`, {
        details: problems,
      });
    }
  }

  /** Compiles the model's current schemas if they changed (by identity) since the last compile. */
  #compileSchemas(): void {
    // Where the model's schemas (public JsonSchema: TypeBox, literals, interface-typed objects) become records to read.
    const { input_schema: input, output_schema: output }: { input_schema?: SchemaRecord; output_schema?: SchemaRecord } = this.model;
    if (input !== undefined && input !== this.#modelInputSchema) {
      this.#validateModelInput = this.#compileOne('input_schema', input);
      this.#modelInputSchema = input;
      this.#modelInputColumns = columnsOf(input);
    }
    if (output !== undefined && output !== this.#modelOutputSchema) {
      this.#validateModelOutput = this.#compileOne('output_schema', output);
      this.#modelOutputSchema = output;
    }
    const outer = decoratedSchemas(this.#decorators, input, output);
    if (outer.input !== undefined && outer.input !== this.#inputSchema) {
      this.#validateInput = outer.input === input ? this.#validateModelInput : this.#compileOne('input_schema (as the decorators present it)', outer.input);
      this.#inputSchema = outer.input;
      this.#inputColumns = columnsOf(outer.input);
    }
    if (outer.output !== undefined && outer.output !== this.#outputSchema) {
      this.#validateOutput = outer.output === output ? this.#validateModelOutput : this.#compileOne('output_schema (as the decorators present it)', outer.output);
      this.#outputSchema = outer.output;
      this.#outputColumns = columnsOf(outer.output);
    }
    this.#recordSignature =
      this.#inputColumns.length > 0 && this.#outputColumns.length > 0
        ? { platform: RECORD_PLATFORM, inputs: this.#inputColumns, outputs: this.#outputColumns }
        : undefined;
  }

  #compileOne(which: string, schema: SchemaRecord): RecordValidator {
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new Error(`${which} of model '${this.name}' must be a JSON Schema object, got ${Array.isArray(schema) ? 'an array' : typeof schema}`);
    }
    try {
      // A fresh ajv per compile: a schema replaced in load() may keep its `$id`, which one ajv would refuse twice.
      return createSchemaCompiler()(schema);
    } catch (error) {
      const message = (error as Error).message;
      const hint = /no schema with key or ref/.test(message)
        ? ' (its $schema is not one longshore knows: use http://json-schema.org/draft-07/schema#, or a 2019-09 or 2020-12 URI)'
        : '';
      throw new Error(`${which} of model '${this.name}' is not a valid JSON Schema: ${message}${hint}`);
    }
  }

  #setState(state: ModelState): void {
    this.#state = state;
    if (state !== 'failed') this.#error = undefined;
    this.#onStateChange();
  }
}

/** The shorter of the model's timeout and the client's (either may be absent or 0 for none). */
function effectiveTimeout(model: number, client: number | undefined): number | undefined {
  if (client === undefined || client <= 0) return model > 0 ? model : undefined;
  return model > 0 ? Math.min(model, client) : client;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
