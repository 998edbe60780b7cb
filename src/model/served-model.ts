/**
 * One model as the server sees it: its metadata (after YAML overrides), its state machine, and guarded calls that
 * validate input and output around the user's code. The compiled schemas are ModelSchemas, the batching chosen at
 * load is CallPlan, metrics and the prediction log are CallObservation, explain is Explainer, and the errors come from
 * call-errors.ts.
 */
import type { Logger } from 'pino';
import type { BatchObserver } from '../batching/batcher.js';
import type { ServingSettings } from '../config/serving.js';
import { composeChain, type DecoratedCall, type NamedDecorator } from '../decorators/chain.js';
import { SchemaValidationError, type LongshoreError } from '../errors.js';
import type { ModelObserver } from '../metrics/catalogue.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import { columnsToRecords, recordsToColumns, type ColumnSpec } from '../tensors/record-columns.js';
import { checkInputs, checkOutputs } from '../tensors/signature-check.js';
import type { Tensor, TensorSignature } from '../tensors/tensor.js';
import { checkDecorated, checkOutput, checkRecords, indexedProblems, inputError, modelThrewError, notReadyError } from './call-errors.js';
import { CallObservation } from './call-observation.js';
import { CallPlan, type ModelQueue } from './call-plan.js';
import type { ModelExample, ModelState } from './contract.js';
import { Explainer } from './explainer.js';
import type { ModelListing, ServedMetadata } from './metadata.js';
import { ModelSchemas, type Validators } from './model-schemas.js';
import { ModelOperations, type OperationDescription } from './operations.js';
import { callerExamples, runSelfTests } from './self-test.js';
import { UNLIMITED, type CallOptions, type ServedModelOptions } from './served-model-options.js';
import type { RecordValidator, SchemaRecord } from './validation.js';

export class ServedModel {
  readonly metadata: ServedMetadata;
  readonly createEndpoint: boolean;
  readonly required: boolean;
  readonly model: RuntimeModel;
  #state: ModelState = 'loading';
  #loading: Promise<void> | undefined;
  #error: string | undefined;
  readonly #schemas: ModelSchemas;
  readonly #decorators: readonly NamedDecorator[];
  /** predict through the decorators, when there are any. */
  #chain: DecoratedCall | undefined;
  #operations: ModelOperations | undefined;
  readonly #configExamples: readonly ModelExample[];
  readonly #logger: Logger;
  readonly #onStateChange: () => void;
  readonly #serving: ServingSettings;
  readonly #observer: BatchObserver | undefined;
  readonly #modelObserver: ModelObserver | undefined;
  readonly #observation: CallObservation;
  readonly #explainer: Explainer;
  /** How calls reach the model; built at load. */
  #plan: CallPlan | undefined;

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
    this.#observation = new CallObservation({
      model,
      name: this.name,
      version: this.metadata.version,
      logger: this.#logger,
      modelObserver: options.modelObserver,
      recorder: options.recorder,
    });
    this.#decorators = options.decorators ?? [];
    this.#configExamples = options.examples ?? [];
    this.#schemas = new ModelSchemas(this.name, this.#decorators);
    this.#explainer = new Explainer(model, this.name, this.#schemas, (error) => this.#modelThrew(error));
    if (this.#decorators.length > 0) this.#chain = composeChain(this.name, this.#decorators, (input, context) => this.#callModel(input, context));
    this.#modelObserver?.watchReady(() => this.#state === 'ready');
    this.#schemas.compile(model);
  }

  /** Facts about how the model is served: the model's own notes, then the batching decided at load. */
  get notes(): string[] {
    return [...(this.model.notes ?? []), ...(this.#plan?.notes ?? [])];
  }

  /** The model's queue (after load): rows waiting, batches running, and the check on arrival (ModelQueue). */
  get queue(): ModelQueue | undefined {
    return this.#plan;
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
    return this.#schemas.input;
  }

  get outputSchema(): SchemaRecord | undefined {
    return this.#schemas.output;
  }

  /**
   * The tensor view: the model's own (ONNX), else one column per top-level field of the record schemas. A decorated
   * model always has the record view of its outermost schemas, since its decorators work on records.
   */
  get signature(): TensorSignature | undefined {
    return this.#chain ? this.#schemas.recordSignature : (this.model.signature ?? this.#schemas.recordSignature);
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
    return callerExamples(this.model.examples ?? [], this.#configExamples, !this.#schemas.decoratesInput);
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
      this.#schemas.compile(this.model);
      const validators = this.#schemas.validators;
      if (!validators) throw new Error('the model has no input_schema or output_schema after load(); both must be JSON Schema objects');
      this.#operations = new ModelOperations(this.name, this.model.operations);
      this.#plan = new CallPlan(this.model, this.name, this.#serving, this.#observer, this.#modelObserver);
      const failures = await this.#runSelfTests(validators);
      if (failures.length > 0) throw new Error(failures.join('; '));
      this.#modelObserver?.loaded((performance.now() - started) / 1000);
      this.#setState('ready');
      this.#logger.info({ duration_ms: round(performance.now() - started), batching: this.#plan.batching, policy: this.#serving.policy }, 'model ready');
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
    return this.#observation.observe('predict', input, options, () => this.#predict(input, options));
  }

  /** Validates every record (reporting each failing one by index), predicts them as one batch, validates outputs. */
  predictBatch(inputs: readonly unknown[], options: CallOptions = {}): Promise<unknown[]> {
    return this.#observation.observe('predict_batch', inputs, options, () => this.#predictBatch(inputs, options));
  }

  /**
   * Runs Open Inference Protocol tensors: checked against the signature first, then run natively (ONNX) or turned into
   * records, predicted as one batch (with the usual validation both ways) and turned back into columns.
   */
  infer(inputs: readonly Tensor[], requested: readonly string[] | undefined, options: CallOptions = {}): Promise<Tensor[]> {
    return this.#observation.observe('infer', inputs, options, () => this.#inferTensors(inputs, requested, options));
  }

  /** `validators` defaults to the ready model's; a self-test during load passes them itself. */
  async #predict(input: unknown, options: CallOptions, { validateInput, validateOutput }: Validators = this.#readyValidators()): Promise<unknown> {
    const problems = validateInput(input);
    if (problems) throw inputError(this.name, problems);
    const output = this.#chain ? await this.#chain(input, options) : await this.#callModel(input, options);
    checkOutput(this.name, validateOutput(output));
    return output;
  }

  /**
   * The model's own call for one record, through its queue. Behind decorators it also checks the record against the
   * model's own schemas: a decorator may hand on, or return, something the model's schemas do not allow.
   */
  async #callModel(input: unknown, options: CallOptions): Promise<unknown> {
    if (this.#chain) checkDecorated(this.name, 'passed the model an input', this.#schemas.validateModelInput?.(input));
    const output = await this.#predictOne(input, options);
    if (this.#chain) checkDecorated(this.name, 'got an output from the model', this.#schemas.validateModelOutput?.(output));
    return output;
  }

  /** One record through the model's queue, with what the model throws turned into a catalogue error. */
  async #predictOne(input: unknown, options: CallOptions): Promise<unknown> {
    try {
      const [output] = await this.#planned().predictRecords([input], undefined, options);
      return output;
    } catch (error) {
      throw this.#modelThrew(error);
    }
  }

  /** Why the model answered what it did (the model's explain(); 501 without one); see Explainer. */
  explain(input: unknown, options: CallOptions = {}): Promise<unknown> {
    this.#explainer.assertAvailable();
    this.#readyValidators();
    return this.#explainer.explain(input, options);
  }

  /** Throws 501 NotImplementedError when the model has no explain(). */
  assertExplains(): void {
    this.#explainer.assertAvailable();
  }

  /** explain for Open Inference Protocol tensors: the explanations as JSON text in a BYTES output `explanation`. */
  explainTensors(inputs: readonly Tensor[], options: CallOptions = {}): Promise<Tensor[]> {
    this.#explainer.assertAvailable();
    this.#readyValidators();
    return this.#explainer.explainTensors(inputs, options);
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

  /** The model's examples and the config entry's (see runSelfTests); caches stand aside (`selfTest`). */
  async #runSelfTests(validators: Validators): Promise<string[]> {
    const direct = async (input: unknown) => {
      const problems = this.#schemas.validateModelInput?.(input);
      if (problems) throw inputError(this.name, problems);
      const output = await this.#predictOne(input, { selfTest: true });
      checkOutput(this.name, this.#schemas.validateModelOutput?.(output));
      return output;
    };
    return runSelfTests(this.model.examples ?? [], this.#configExamples, direct, (input) => this.#predict(input, { selfTest: true }, validators));
  }

  /**
   * Checks records against the input schema, each failing one reported by index (`/3/x`); throws SchemaValidationError.
   * Also for operations that hand records to the model by another path (score()).
   */
  validateInputs(inputs: readonly unknown[]): void {
    checkRecords(this.name, inputs, this.#readyValidators().validateInput);
  }

  /** validateInputs against the model's own input schema (not its decorators'): for calls that reach the model itself. */
  validateModelInputs(inputs: readonly unknown[]): void {
    this.#readyValidators();
    checkRecords(this.name, inputs, this.#schemas.validateModelInput as RecordValidator);
  }

  async #predictBatch(inputs: readonly unknown[], options: CallOptions): Promise<unknown[]> {
    const { validateInput, validateOutput } = this.#readyValidators();
    checkRecords(this.name, inputs, validateInput);
    let outputs: unknown[];
    const chain = this.#chain;
    if (chain) {
      // Decorators work on one record at a time; the records still meet again in the model's queue.
      outputs = await Promise.all(inputs.map((input) => chain(input, options)));
    } else {
      try {
        outputs = await this.#planned().predictRecords([...inputs], 0, options);
      } catch (error) {
        throw this.#modelThrew(error);
      }
    }
    checkOutput(this.name, indexedProblems(outputs, validateOutput));
    return outputs;
  }

  async #inferTensors(inputs: readonly Tensor[], requested: readonly string[] | undefined, options: CallOptions): Promise<Tensor[]> {
    this.#readyValidators();
    const plan = this.#planned();
    const signature = this.signature;
    if (!signature) {
      throw new SchemaValidationError(`model '${this.name}' has no tensor view: its input and output schemas must be objects with properties`);
    }
    const byName = checkInputs(this.name, signature, inputs);
    const outputs = checkOutputs(this.name, signature, requested);
    // A decorated model runs its decorators on records, so its tensors take the record path below.
    if (!this.#chain && plan.runsTensors) {
      try {
        return await plan.runTensors(signature, byName, outputs, inputs[0]?.shape[0] ?? 1, options);
      } catch (error) {
        throw this.#modelThrew(error);
      }
    }
    const records = await this.#predictBatch(columnsToRecords(this.#schemas.inputColumns, byName), options);
    const columns = outputs.map((name) => this.#schemas.outputColumns.find((column) => column.name === name) as ColumnSpec);
    return recordsToColumns(columns, records as Record<string, unknown>[]);
  }

  /** The call plan of the loaded model; ModelNotReadyError before load or after unload. */
  #planned(): CallPlan {
    if (!this.#plan) throw this.#notReady();
    return this.#plan;
  }

  /** Throws ModelNotReadyError (with Retry-After while loading) unless the model is ready. */
  assertReady(): void {
    this.#readyValidators();
  }

  #readyValidators(): Validators {
    const validators = this.#schemas.validators;
    if (this.#state !== 'ready' || !validators) throw this.#notReady();
    return validators;
  }

  #notReady(): LongshoreError {
    return notReadyError(this.name, this.#state, this.#error);
  }

  #modelThrew(error: unknown): LongshoreError {
    return modelThrewError(this.name, this.#state, error);
  }

  #setState(state: ModelState): void {
    this.#state = state;
    if (state !== 'failed') this.#error = undefined;
    this.#onStateChange();
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
