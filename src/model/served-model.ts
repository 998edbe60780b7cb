/**
 * One model as the server sees it: its metadata (after YAML overrides), its state machine, its compiled schema
 * validators, and guarded calls that validate input and output around the user's code.
 */
import type { Logger } from 'pino';
import { InferenceError, LongshoreError, ModelNotReadyError, SchemaValidationError, type ErrorDetail } from '../errors.js';
import type { JsonSchema, Model, ModelMetadata, ModelState } from './contract.js';
import { columnsOf, columnsToRecords, recordsToColumns, type ColumnSpec } from '../tensors/record-columns.js';
import { checkInputs, checkOutputs } from '../tensors/signature-check.js';
import type { Tensor, TensorSignature } from '../tensors/tensor.js';
import { createSchemaCompiler, summarize, type RecordValidator } from './validation.js';

/** The platform a record (code) model reports in its V2 metadata. */
export const RECORD_PLATFORM = 'longshore_records';

/** Most details one error carries: a body with a million bad elements must not get a response a hundred times its size. */
export const MAX_DETAILS = 100;

/** Seconds a client is told to wait while a model loads. */
export const LOADING_RETRY_AFTER_SECONDS = 2;

export interface ServedModelOptions {
  readonly metadata: ModelMetadata;
  readonly createEndpoint: boolean;
  readonly required: boolean;
  readonly logger: Logger;
  /** Called after every state change (the registry bumps its version so cached documents refresh). */
  readonly onStateChange: () => void;
}

/** The listing of one model, as `GET /api/models` shows it. */
export interface ModelListing extends ModelMetadata {
  readonly status: ModelState;
  readonly error?: string;
}

export class ServedModel {
  readonly metadata: ModelMetadata;
  readonly createEndpoint: boolean;
  readonly required: boolean;
  readonly model: Model;
  #state: ModelState = 'loading';
  #loading: Promise<void> | undefined;
  #error: string | undefined;
  #inputSchema: JsonSchema | undefined;
  #outputSchema: JsonSchema | undefined;
  #validateInput: RecordValidator | undefined;
  #validateOutput: RecordValidator | undefined;
  /** The record schemas as tensor columns (the tensor view of a record model). */
  #inputColumns: ColumnSpec[] = [];
  #outputColumns: ColumnSpec[] = [];
  /** The columns as a signature, rebuilt only when a schema changes (it is read on every V2 call). */
  #recordSignature: TensorSignature | undefined;
  readonly #logger: Logger;
  readonly #onStateChange: () => void;

  /** Compiles the schemas the model already exposes; throws if one is not a valid JSON Schema. */
  constructor(model: Model, options: ServedModelOptions) {
    this.model = model;
    this.metadata = options.metadata;
    this.createEndpoint = options.createEndpoint;
    this.required = options.required;
    this.#logger = options.logger.child({ model: options.metadata.qualified_name, version: options.metadata.version });
    this.#onStateChange = options.onStateChange;
    this.#compileSchemas();
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

  get inputSchema(): JsonSchema | undefined {
    return this.#inputSchema;
  }

  get outputSchema(): JsonSchema | undefined {
    return this.#outputSchema;
  }

  /** The tensor view: the model's own (ONNX), else one column per top-level field of the record schemas. */
  get signature(): TensorSignature | undefined {
    return this.model.signature ?? this.#recordSignature;
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
      await this.model.load?.();
      if (this.#state !== 'loading') {
        // Shutdown unloaded the model while load() ran: release what the late load acquired, stay unloaded.
        await this.model.unload?.();
        this.#logger.info('model finished loading after shutdown began; released again');
        return;
      }
      this.#compileSchemas();
      if (!this.#validateInput || !this.#validateOutput) {
        throw new Error('the model has no input_schema or output_schema after load(); both must be JSON Schema objects');
      }
      this.#setState('ready');
      this.#logger.info({ duration_ms: round(performance.now() - started) }, 'model ready');
      for (const note of this.model.notes ?? []) this.#logger.warn({ note }, 'model served with a limitation');
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
    try {
      await this.model.unload?.();
    } catch (error) {
      this.#logger.error({ err: error }, 'model failed to unload');
    }
    this.#setState('unloaded');
    this.#logger.info('model unloaded');
  }

  /** Validates one record, predicts, validates the output. */
  async predict(input: unknown): Promise<unknown> {
    const { validateInput, validateOutput } = this.#readyValidators();
    const problems = validateInput(input);
    if (problems) throw this.#inputError(problems);
    let output: unknown;
    try {
      output = await this.model.predict(input);
    } catch (error) {
      throw this.#modelThrew(error);
    }
    this.#checkOutput(validateOutput(output));
    return output;
  }

  /** Validates every record (reporting each failing one by index), predicts them as one batch, validates outputs. */
  async predictBatch(inputs: readonly unknown[]): Promise<unknown[]> {
    const { validateInput, validateOutput } = this.#readyValidators();
    const problems: ErrorDetail[] = [];
    for (const [index, input] of inputs.entries()) {
      for (const detail of validateInput(input) ?? []) problems.push({ ...detail, path: `/${index}${detail.path === '/' ? '' : detail.path}` });
      if (problems.length >= MAX_DETAILS) break; // enough to act on; the response stays small
    }
    if (problems.length > 0) throw this.#inputError(problems);
    let outputs: unknown[];
    try {
      outputs = this.model.predictBatch
        ? await this.model.predictBatch([...inputs])
        : // async wrapper: a predict() that throws synchronously must not orphan the promises already made.
          await Promise.all(inputs.map(async (input) => this.model.predict(input)));
    } catch (error) {
      throw this.#modelThrew(error);
    }
    if (!Array.isArray(outputs) || outputs.length !== inputs.length) {
      throw new InferenceError(
        `model '${this.name}' returned ${Array.isArray(outputs) ? `${outputs.length} outputs` : 'a non-array'} for a batch of ${inputs.length} inputs`,
      );
    }
    this.#checkOutput(outputs.flatMap((output, index) => (validateOutput(output) ?? []).map((d) => ({ ...d, path: `/${index}${d.path === '/' ? '' : d.path}` }))));
    return outputs;
  }

  /**
   * Runs Open Inference Protocol tensors: checked against the signature first, then run natively (ONNX) or turned into
   * records, predicted as one batch (with the usual validation both ways) and turned back into columns.
   */
  async infer(inputs: readonly Tensor[], requested: readonly string[] | undefined): Promise<Tensor[]> {
    this.#readyValidators();
    const signature = this.signature;
    if (!signature) {
      throw new SchemaValidationError(`model '${this.name}' has no tensor view: its input and output schemas must be objects with properties`);
    }
    const byName = checkInputs(this.name, signature, inputs);
    const outputs = checkOutputs(this.name, signature, requested);
    if (this.model.infer) {
      try {
        return await this.model.infer(byName, outputs);
      } catch (error) {
        throw this.#modelThrew(error);
      }
    }
    const records = await this.predictBatch(columnsToRecords(this.#inputColumns, byName));
    const columns = outputs.map((name) => this.#outputColumns.find((column) => column.name === name) as ColumnSpec);
    return recordsToColumns(columns, records as Record<string, unknown>[]);
  }

  /** Throws ModelNotReadyError (with Retry-After while loading) unless the model is ready. */
  assertReady(): void {
    this.#readyValidators();
  }

  #readyValidators(): { validateInput: RecordValidator; validateOutput: RecordValidator } {
    if (this.#state !== 'ready' || !this.#validateInput || !this.#validateOutput) throw this.#notReady();
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
    const { input_schema: input, output_schema: output } = this.model;
    if (input !== undefined && input !== this.#inputSchema) {
      this.#validateInput = this.#compileOne('input_schema', input);
      this.#inputSchema = input;
      this.#inputColumns = columnsOf(input);
    }
    if (output !== undefined && output !== this.#outputSchema) {
      this.#validateOutput = this.#compileOne('output_schema', output);
      this.#outputSchema = output;
      this.#outputColumns = columnsOf(output);
    }
    this.#recordSignature =
      this.#inputColumns.length > 0 && this.#outputColumns.length > 0
        ? { platform: RECORD_PLATFORM, inputs: this.#inputColumns, outputs: this.#outputColumns }
        : undefined;
  }

  #compileOne(which: string, schema: JsonSchema): RecordValidator {
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

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
