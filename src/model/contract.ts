/**
 * The model contract: what a user implements so longshore can serve a model. Runtimes (TypeScript classes, ONNX files)
 * all produce an object of this shape.
 */

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CancelSignal } from '../batching/batcher.js';
import type { Tensor, TensorSignature } from '../tensors/tensor.js';

/** A JSON Schema object (TypeBox schemas are JSON Schemas too). */
export type JsonSchema = Record<string, unknown>;

/** Descriptive metadata shown by `GET /api/models` and in the docs. */
export interface ModelMetadata {
  /** Unique name used in URLs (`/api/models/{qualified_name}/prediction`). Letters, digits, `_`, `.`, `-`. */
  readonly qualified_name: string;
  readonly display_name: string;
  readonly description: string;
  readonly version: string;
}

/**
 * A servable model.
 *
 * @example
 * ```ts
 * import { Type, type Static } from '@sinclair/typebox';
 * import type { Model } from 'longshore';
 *
 * const Input = Type.Object({ x: Type.Number() });
 * const Output = Type.Object({ y: Type.Number() });
 *
 * export class Doubler implements Model<Static<typeof Input>, Static<typeof Output>> {
 *   qualified_name = 'doubler';
 *   display_name = 'Doubler';
 *   description = 'Returns twice its input.';
 *   version = '1.0.0';
 *   input_schema = Input;
 *   output_schema = Output;
 *   constructor(private readonly configuration: Record<string, unknown>) {}
 *   async load() { }
 *   predict(input: Static<typeof Input>) { return { y: 2 * input.x }; }
 * }
 * ```
 */
export interface Model<Input = unknown, Output = unknown> extends ModelMetadata {
  /** Schema of one input record. Read after construction, and again after `load()` (it may be known only then). */
  readonly input_schema: JsonSchema;
  /** Schema of one output record; every output is checked against it. */
  readonly output_schema: JsonSchema;
  /** Slow setup (reading weights, warming up). Runs in the background after the server starts listening. */
  load?(): Promise<void> | void;
  /**
   * Predicts one record. The input has already passed `input_schema`. `context` carries the caller's request id,
   * headers and deadline (a graph passes them on to its members); models may ignore it.
   */
  predict(input: Input, context?: CallContext): Promise<Output> | Output;
  /** Predicts many records at once, in order. Without it, batches call `predict` once per record. */
  predictBatch?(inputs: Input[]): Promise<Output[]> | Output[];
  /**
   * The tensor view for the Open Inference Protocol. ONNX models have one (their graph); a record model without one
   * gets one derived from its schemas (one column per top-level field).
   */
  readonly signature?: TensorSignature;
  /** Runs request tensors (already checked against `signature`) and returns the named outputs, in that order. */
  infer?(inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): Promise<Tensor[]>;
  /**
   * For tensor models whose rows lie along the first dimension (ONNX): how records become input tensors and output
   * tensors records again. With it, REST requests join the same batches as Open Inference Protocol requests.
   */
  readonly recordCodec?: RecordTensorCodec;
  /**
   * Custom metrics for the prediction log: called only for calls sampled into the log, with what the model got (one
   * record, an array of records, or tensors) and what it answered. E.g. a confidence margin or a drift score.
   */
  metricsFor?(inputs: unknown, outputs: unknown): Record<string, number> | undefined;
  /**
   * Quality metrics over labelled examples, for `POST /api/models/{name}/score` (docs/score.md). Optional: without it
   * longshore predicts the inputs itself and computes accuracy / macro precision, recall, F1 (classifiers) or MAE,
   * RMSE, R² (regressors). Every `input` has already passed `input_schema`; `expected` is passed as the client sent it
   * (an output record or a bare label / value). Must return a plain object of finite numbers, e.g. `{ auc: 0.93 }`.
   * Called directly, outside the model's batching queue.
   */
  score?(examples: ScoreExample<Input>[]): Promise<Record<string, number>> | Record<string, number>;
  /**
   * Why the model answered what it did, for `POST /api/models/{name}/explain` and `/v2/models/{name}/explain`
   * (docs/operations.md). Gets one record that passed `input_schema`; returns any JSON value. Without it those routes
   * answer 501.
   */
  explain?(input: Input, context?: CallContext): Promise<unknown> | unknown;
  /**
   * Custom operations beyond predict, each served as `POST /api/models/{name}/operations/{op}` with its own schemas
   * and documented in OpenAPI (docs/operations.md). Keys are operation names (letters, digits, `_`, `-`).
   */
  readonly operations?: Readonly<Record<string, OperationSpec>>;
  /**
   * Self-tests (docs/self-tests.md): inputs, optionally with the expected output. They run once after load (a failing
   * one marks the model failed, with the difference), again on `GET /api/health/ready?deep=true`, and appear in the
   * OpenAPI document as request examples. A config entry's `examples` are added after these.
   */
  readonly examples?: readonly ModelExample[];
  /** Facts about how the model is served (e.g. outputs left out and why); shown in its metadata. */
  readonly notes?: readonly string[];
  /** Releases resources. Called at shutdown. */
  unload?(): Promise<void> | void;
}

/** What a model call knows about its caller. Every field is optional: a call from a self-test has none. */
export interface CallContext {
  /** The client's deadline in milliseconds (the shorter of it and the model's `timeout_ms` applies). */
  readonly timeoutMs?: number;
  /** Cancelled when the client goes away, so queued work for it is dropped. */
  readonly signal?: CancelSignal;
  /** The HTTP request id. */
  readonly requestId?: string;
  /** The request's headers, names in lower case (a router graph picks a member by one). */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  /** The call is a self-test (docs/self-tests.md): decorators must not answer it from a cache. */
  readonly selfTest?: boolean;
}

/** One custom operation of a model: its schemas (validated like predict's) and the function that runs it. */
export interface OperationSpec {
  readonly description?: string;
  readonly input_schema: JsonSchema;
  readonly output_schema: JsonSchema;
  run(input: unknown, context?: CallContext): Promise<unknown> | unknown;
}

/** A self-test: an input the model must answer, and optionally what it must answer (docs/self-tests.md). */
export interface ModelExample {
  /** Shown in failures and as the OpenAPI example's name. Default `example <index>`. */
  readonly name?: string;
  readonly input: unknown;
  /**
   * The expected output record; only the fields given are compared (arrays element by element), numbers within
   * `tolerance`. Without it the example only has to succeed and pass the output schema.
   */
  readonly expected_output?: unknown;
  /** Largest absolute difference allowed between numbers. Default 1e-6. */
  readonly tolerance?: number;
}

/**
 * A decorator wraps a model's predict like middleware (docs/decorators.md): it sees the input, may change it, calls
 * `next` (the next layer inwards, finally the model) or answers itself, and may change the output. Listed per model
 * in YAML; the first listed is the outermost.
 */
export interface Decorator {
  /** The input schema callers see, given the one of the layer inside. Default: unchanged. */
  inputSchema?(inner: JsonSchema): JsonSchema;
  /** The output schema callers see, given the one of the layer inside. Default: unchanged. */
  outputSchema?(inner: JsonSchema): JsonSchema;
  /** Setup before the model loads (e.g. importing a module of functions). */
  load?(): Promise<void> | void;
  predict(input: unknown, next: (input: unknown) => Promise<unknown>, context: CallContext): Promise<unknown> | unknown;
  /** Releases resources at shutdown. */
  unload?(): Promise<void> | void;
}

/** What a decorator is constructed with besides its `configuration`. */
export interface DecoratorSetup {
  /** The decorated model's qualified_name. */
  readonly model: string;
  readonly version: string;
  /** The config file's directory: relative paths in `configuration` resolve against it. */
  readonly configDir: string;
  /** The server's Prometheus registry, for a decorator's own metrics. */
  readonly metrics: Registry;
  /** Whether metrics carry `model` and `version` labels (metrics.model_labels). */
  readonly modelLabels: boolean;
  readonly logger: Logger;
}

/** A decorator class as named by a decorator entry's `class_path`. */
export type DecoratorClass = new (configuration: Record<string, unknown>, setup: DecoratorSetup) => Decorator;

/** One labelled example of a score request: an input record and what the model should answer for it. */
export interface ScoreExample<Input = unknown> {
  readonly input: Input;
  /** The expected output record, or just its label (classifier) or value (regressor). */
  readonly expected: unknown;
}

/** Records to tensors and back, for a model whose tensors carry one row per record along their first dimension. */
export interface RecordTensorCodec {
  /** Stacks records (already schema-valid) into the model's input tensors; `firstIndex` places errors (`/3/x`). */
  toTensors(records: readonly unknown[], firstIndex?: number): Map<string, Tensor>;
  /** Cuts output tensors (every output of the signature, in its order) into `count` records. */
  toRecords(outputs: readonly Tensor[], count: number): unknown[];
}

/** A model class as named by `class_path`: constructed with the entry's `configuration` mapping. */
export type ModelClass = new (configuration: Record<string, unknown>) => Model;

/** Lifecycle states of a served model (see docs/architecture.md for the transitions). */
export type ModelState = 'loading' | 'ready' | 'failed' | 'unloading' | 'unloaded';
