/**
 * The bodies the server sends and the client reads, in one place: the REST listing and metadata, the Open Inference
 * Protocol's server and model metadata, and a decoded inference request and its response. Routes, the dataplane and
 * the published client (`longshore/client`) all take these types from here, so none of them imports another's
 * internals. Types only; imports only the tensor view.
 */
import type { Tensor } from './tensors/tensor.js';

/** Lifecycle states of a served model (see docs/architecture.md for the transitions). */
export type ModelState = 'loading' | 'ready' | 'failed' | 'unloading' | 'unloaded';

/** One model in `GET /api/models`: its metadata, every field resolved, and its state. */
export interface ModelListing {
  readonly qualified_name: string;
  readonly display_name: string;
  readonly description: string;
  readonly version: string;
  readonly status: ModelState;
  /** Why the model failed to load (only when status is failed). */
  readonly error?: string;
}

/** A JSON Schema object as it travels in a body. */
export type SchemaObject = Record<string, unknown>;

/** A model's custom operation, as its metadata lists it. */
export interface OperationDescription {
  readonly name: string;
  readonly description: string;
  readonly input_schema: SchemaObject;
  readonly output_schema: SchemaObject;
}

/** A self-test as the metadata lists it (docs/self-tests.md). */
export interface ExampleDescription {
  readonly name?: string;
  readonly input: unknown;
  readonly expected_output?: unknown;
  readonly tolerance?: number;
}

/**
 * What a model reports it holds (docs/performance.md, "Memory"), in bytes by kind: `onnx_session` (an estimate: the
 * model file's size times its live sessions), `worker_heap` (the V8 heap used by its worker threads). A kind absent was
 * not measured; `measured: false` means nothing was (a code model on the main thread shares the process heap).
 */
export interface ModelMemory {
  readonly measured: boolean;
  readonly bytes: Readonly<Partial<Record<ModelMemoryKind, number>>>;
  /** How the bytes were obtained, or why there are none. */
  readonly method: string;
}

export type ModelMemoryKind = 'onnx_session' | 'worker_heap';

/** `GET /api/models/{name}/metadata`: the listing plus both schemas (null until a model exposes them). */
export interface ModelDescription extends ModelListing {
  readonly input_schema: SchemaObject | null;
  readonly output_schema: SchemaObject | null;
  /** How the model is served, when there is something to say (e.g. ONNX outputs left out). */
  readonly notes?: readonly string[];
  readonly explain: boolean;
  readonly operations: readonly OperationDescription[];
  readonly examples: readonly ExampleDescription[];
  /** What the model holds in memory (ModelMemory). */
  readonly memory?: ModelMemory;
}

/** `GET /v2`: the server's name, version and the protocol extensions it implements. */
/** One row of the repository index (`POST /v2/repository/index`): Triton's states, and why a version is not ready. */
export interface RepositoryIndexEntry {
  readonly name: string;
  /** Empty for a model the config knows with no version loaded. */
  readonly version: string;
  readonly state: 'READY' | 'LOADING' | 'UNLOADING' | 'UNAVAILABLE';
  readonly reason: string;
}

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: string[];
}

/** One tensor of `GET /v2/models/{name}` (-1 marks a dynamic dimension). */
export interface TensorSpecView {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

/** `GET /v2/models/{name}`: the tensor view of a model. */
export interface TensorMetadata {
  readonly name: string;
  readonly versions: string[];
  readonly platform: string;
  readonly inputs: readonly TensorSpecView[];
  readonly outputs: readonly TensorSpecView[];
}

/** An inference request with its tensors decoded. */
export interface InferRequest {
  readonly id?: string;
  readonly inputs: readonly Tensor[];
  /** Names of the outputs to return, in order; all when absent. */
  readonly outputs?: readonly string[];
}

/** An inference response before it is encoded: the model's name and version, the request's id, the outputs. */
export interface InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly outputs: readonly Tensor[];
}
