/**
 * The model contract: what a user implements so longshore can serve a model, and the types that come with it. This file
 * is public API (exported from `src/index.ts`): it holds only what a user writes or receives. What the runtimes add for
 * the server's own use (tensor views of ONNX graphs) is `RuntimeModel` in `src/runtimes/runtime-model.ts`.
 */

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CallContext } from '../call-context.js';

export type { CallContext, CallSignal } from '../call-context.js';
export type { ModelState } from '../wire.js';

/**
 * A JSON Schema object: a TypeBox schema, a plain object literal (`as const` too, readonly arrays and all), or a value of
 * an interface type such as `JSONSchema7`. longshore checks at startup that it is an object and compiles it with ajv.
 */
export interface JsonSchema {
  // `any`, not `unknown`: only an index signature of `any` accepts values of interface types, which have none of their own.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly [keyword: string]: any;
}

/**
 * Descriptive metadata shown by `GET /api/models` and in the docs. Every field is optional here: a model entry in the
 * YAML may set or override each one, and `qualified_name` must come from one of the two.
 */
export interface ModelMetadata {
  /** Unique name used in URLs (`/api/models/{qualified_name}/prediction`). Letters, digits, `_`, `.`, `-`. */
  readonly qualified_name?: string;
  /** Default: the `qualified_name`. */
  readonly display_name?: string;
  /** Default: empty. */
  readonly description?: string;
  /** Default: `1`. */
  readonly version?: string;
}

/**
 * A servable model: a class with `input_schema`, `output_schema` and `predict()`; every other member is optional.
 *
 * @example
 * ```ts
 * import { Type, type Static } from '@sinclair/typebox'; // npm install @sinclair/typebox
 * import type { Model } from 'longshore';
 *
 * const Input = Type.Object({ x: Type.Number() });
 * const Output = Type.Object({ y: Type.Number() });
 *
 * export class Doubler implements Model<Static<typeof Input>, Static<typeof Output>> {
 *   readonly qualified_name = 'doubler';
 *   readonly input_schema = Input;
 *   readonly output_schema = Output;
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
  /**
   * Predicts many records at once, in order. Without it, batches call `predict` once per record. `context` is the
   * request's when the records are one `/predictions` body run on its own (batching off); when longshore merged several
   * requests' records into one batch (batching on), it holds nothing, since each request keeps its own deadline and
   * cancellation in the queue.
   */
  predictBatch?(inputs: Input[], context?: CallContext): Promise<Output[]> | Output[];
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

/** One custom operation of a model: its schemas (validated like predict's) and the function that runs it. */
export interface OperationSpec {
  readonly description?: string;
  readonly input_schema: JsonSchema;
  readonly output_schema: JsonSchema;
  run(input: unknown, context?: CallContext): Promise<unknown> | unknown;
}

/** A self-test: an input the model must answer, and optionally what it must answer (docs/self-tests.md). */
export interface ModelExample<Input = unknown> {
  /** Shown in failures and as the OpenAPI example's name. Default `example <index>`. */
  readonly name?: string;
  /** An input record. Declare `examples: ModelExample<MyInput>[]` and `tsc` checks it against the model's input type. */
  readonly input: Input;
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

/** A model class as named by `class_path`: constructed with the entry's `configuration` mapping. */
export type ModelClass = new (configuration: Record<string, unknown>) => Model;
