/**
 * The call path of a loaded model: observe → validate against the schemas callers see → decorators → the model's queue
 * (CallPlan) → validate the output. Built once per load, when the schemas are compiled and the batching is chosen, so a
 * call finds everything ready and nothing is decided per request. `ServedModel.ready()` hands it out only while the
 * model is ready: that is the one readiness check of a call.
 */
import type { CallContext } from '../call-context.js';
import type { CallPlan, ModelQueue } from '../batching/call-plan.js';
import { composeChain, type DecoratedCall, type NamedDecorator } from '../decorators/chain.js';
import type { LongshoreError } from '../errors.js';
import type { ModelOperation } from '../metrics/catalogue.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import type { ColumnSpec } from '../tensors/record-columns.js';
import type { Tensor, TensorSignature } from '../tensors/tensor.js';
import { checkDecorated, checkOutput, checkRecords, indexedProblems, inputError } from './call-errors.js';
import type { CallObservation } from './call-observation.js';
import type { ModelExample } from './contract.js';
import { Explainer } from './explainer.js';
import type { ModelSchemas, Validators } from './model-schemas.js';
import { ModelOperations } from './operations.js';
import { runSelfTests } from './self-test.js';
import type { RecordValidator } from './validation.js';
import { ATTR, type TraceSpan } from '../tracing/span.js';

export interface CallPathParts {
  readonly model: RuntimeModel;
  readonly name: string;
  readonly version: string;
  readonly schemas: ModelSchemas;
  /** The outer validators, compiled (the model has loaded). */
  readonly validators: Validators;
  readonly decorators: readonly NamedDecorator[];
  readonly plan: CallPlan;
  readonly observation: CallObservation;
  readonly configExamples: readonly ModelExample[];
  /** What the model throws, as a catalogue error (503 once the model is unloading). */
  readonly modelThrew: (error: unknown) => LongshoreError;
}

export class CallPath {
  readonly model: RuntimeModel;
  readonly name: string;
  readonly version: string;
  readonly operations: ModelOperations;
  readonly #schemas: ModelSchemas;
  readonly #validators: Validators;
  readonly #plan: CallPlan;
  readonly #observation: CallObservation;
  readonly #configExamples: readonly ModelExample[];
  readonly #explainer: Explainer;
  readonly #modelThrew: (error: unknown) => LongshoreError;
  /** predict through the decorators, when there are any. */
  readonly #chain: DecoratedCall | undefined;

  /** Throws (failing the load) when an operation is declared wrongly. */
  constructor(parts: CallPathParts) {
    this.model = parts.model;
    this.name = parts.name;
    this.version = parts.version;
    this.#schemas = parts.schemas;
    this.#validators = parts.validators;
    this.#plan = parts.plan;
    this.#observation = parts.observation;
    this.#configExamples = parts.configExamples;
    this.#modelThrew = parts.modelThrew;
    this.#explainer = new Explainer(parts.model, parts.name, parts.schemas, parts.modelThrew);
    this.operations = new ModelOperations(parts.name, parts.model.operations);
    this.#chain = parts.decorators.length > 0 ? composeChain(parts.name, parts.decorators, (input, context) => this.#callModel(input, context)) : undefined;
  }

  /** The model's queue: rows waiting, batches running, the check on arrival. */
  get queue(): ModelQueue {
    return this.#plan;
  }

  /** The tensor view callers see: the model's own (ONNX), or, behind decorators or for a code model, the records'. */
  get signature(): TensorSignature | undefined {
    return this.#chain ? this.#schemas.recordSignature : (this.model.signature ?? this.#schemas.recordSignature);
  }

  /** Whether checked tensors run as they are (the model's own tensor call, no decorators) rather than as records. */
  get runsTensors(): boolean {
    return !this.#chain && this.#plan.runsTensors;
  }

  /** The record columns of the tensor view callers see (a record model's tensors become these records and back). */
  get inputColumns(): readonly ColumnSpec[] {
    return this.#schemas.inputColumns;
  }

  get outputColumns(): readonly ColumnSpec[] {
    return this.#schemas.outputColumns;
  }

  /** The columns of the model's own input schema: explain gets records of it (explain is not decorated). */
  get modelInputColumns(): readonly ColumnSpec[] {
    return this.#schemas.modelInputColumns;
  }

  /** Counts the call in the model's metrics and hands it to the prediction log when sampled (CallObservation). */
  observe<T>(operation: ModelOperation, inputs: unknown, context: CallContext, call: () => Promise<T>): Promise<T> {
    if (context.span !== undefined) this.#nameSpan(context.span, operation);
    return context.warmup === true ? call() : this.#observation.observe(operation, inputs, context, call);
  }

  /** Validates one record, predicts, validates the output. */
  predict(input: unknown, context: CallContext): Promise<unknown> {
    return this.observe('predict', input, context, () => this.#predict(input, context, this.#validators));
  }

  /** Validates every record (reporting each failing one by index), predicts them as one batch, validates outputs. */
  predictBatch(inputs: readonly unknown[], context: CallContext): Promise<unknown[]> {
    return this.observe('predict_batch', inputs, context, () => this.predictRecords(inputs, context));
  }

  /** predictBatch without its own metrics and log record: for a call already observed as another operation (infer). */
  async predictRecords(inputs: readonly unknown[], context: CallContext): Promise<unknown[]> {
    const { validateInput, validateOutput } = this.#validators;
    checkRecords(this.name, inputs, validateInput);
    let outputs: unknown[];
    const chain = this.#chain;
    if (chain) {
      // Decorators work on one record at a time; the records still meet again in the model's queue.
      outputs = await Promise.all(inputs.map((input) => chain(input, context)));
    } else {
      try {
        outputs = await this.#plan.predictMany([...inputs], context);
      } catch (error) {
        throw this.#modelThrew(error);
      }
    }
    checkOutput(this.name, indexedProblems(outputs, validateOutput));
    return outputs;
  }

  /** Checked tensors through the model's own tensor call (see runsTensors), batched with other callers' rows. */
  async runTensors(signature: TensorSignature, byName: ReadonlyMap<string, Tensor>, outputs: readonly string[], rows: number, context: CallContext): Promise<Tensor[]> {
    try {
      return await this.#plan.runTensors(signature, byName, outputs, rows, context);
    } catch (error) {
      throw this.#modelThrew(error);
    }
  }

  /** Why the model answered what it did (the model's explain(); 501 without one); see Explainer. */
  explain(input: unknown, context: CallContext): Promise<unknown> {
    return this.#explainer.explain(input, context);
  }

  /** Runs one of the model's custom operations (404 for one it does not have). */
  runOperation(operation: string, input: unknown, context: CallContext): Promise<unknown> {
    return this.operations.run(operation, input, context);
  }

  /**
   * Checks records against the input schema callers see, each failing one reported by index (`/3/x`); throws
   * SchemaValidationError. For operations that hand records to the model by another path (score()).
   */
  validateInputs(inputs: readonly unknown[]): void {
    checkRecords(this.name, inputs, this.#validators.validateInput);
  }

  /** validateInputs against the model's own input schema (not its decorators'): for calls that reach the model itself. */
  validateModelInputs(inputs: readonly unknown[]): void {
    checkRecords(this.name, inputs, this.#schemas.validateModelInput as RecordValidator);
  }

  /** The self-tests: the model's examples straight to the model, the config entry's through the whole path. */
  runSelfTests(): Promise<string[]> {
    const direct = async (input: unknown) => {
      const problems = this.#schemas.validateModelInput?.(input);
      if (problems) throw inputError(this.name, problems);
      const output = await this.#predictOne(input, { selfTest: true });
      checkOutput(this.name, this.#schemas.validateModelOutput?.(output));
      return output;
    };
    return runSelfTests(this.model.examples ?? [], this.#configExamples, direct, (input) => this.#predict(input, { selfTest: true }, this.#validators));
  }

  async #predict(input: unknown, context: CallContext, { validateInput, validateOutput }: Validators): Promise<unknown> {
    const problems = validateInput(input);
    if (problems) throw inputError(this.name, problems);
    const output = this.#chain ? await this.#chain(input, context) : await this.#callModel(input, context);
    checkOutput(this.name, validateOutput(output));
    return output;
  }

  /**
   * The model's own call for one record, through its queue. Behind decorators it also checks the record against the
   * model's own schemas: a decorator may hand on, or return, something the model's schemas do not allow.
   */
  async #callModel(input: unknown, context: CallContext): Promise<unknown> {
    if (this.#chain) checkDecorated(this.name, 'passed the model an input', this.#schemas.validateModelInput?.(input));
    const output = await this.#predictOne(input, context);
    if (this.#chain) checkDecorated(this.name, 'got an output from the model', this.#schemas.validateModelOutput?.(output));
    return output;
  }

  /** The model and the call on the caller's span (the request's, or a graph member's). */
  #nameSpan(span: TraceSpan, operation: ModelOperation): void {
    if (!span.recording) return;
    span.setAttribute(ATTR.model, this.name);
    span.setAttribute(ATTR.modelVersion, this.version);
    span.setAttribute(ATTR.operation, operation);
  }

  /** One record through the model's queue, with what the model throws turned into a catalogue error. */
  async #predictOne(input: unknown, context: CallContext): Promise<unknown> {
    try {
      return await this.#plan.predictOne(input, context);
    } catch (error) {
      throw this.#modelThrew(error);
    }
  }
}
