/**
 * The protocol-agnostic operations of the server (health, listing, metadata, prediction, tensor inference). The REST and
 * Open Inference Protocol routes are thin adapters over this, so the protocols cannot disagree.
 */
import { ModelNotFoundError, SchemaValidationError } from './errors.js';
import type { ModelExample } from './model/contract.js';
import type { SchemaRecord } from './model/validation.js';
import type { OperationDescription } from './model/operations.js';
import type { ModelRegistry } from './model/registry.js';
import { scoreModel, type ScoreResponse } from './model/score.js';
import type { ModelListing } from './model/metadata.js';
import { RECORD_PLATFORM } from './model/model-schemas.js';
import type { ServedModel } from './model/served-model.js';
import type { CallOptions } from './model/served-model-options.js';
import type { Tensor, TensorSpec } from './tensors/tensor.js';

/** `GET /api/models/{name}/metadata`: the listing plus both schemas (null until a model exposes them). */
export interface ModelDescription extends ModelListing {
  readonly input_schema: SchemaRecord | null;
  readonly output_schema: SchemaRecord | null;
  /** How the model is served, when there is something to say (e.g. ONNX outputs left out). */
  readonly notes?: readonly string[];
  readonly explain: boolean;
  readonly operations: readonly OperationDescription[];
  readonly examples: readonly ModelExample[];
}

/** `GET /v2/models/{name}`: the tensor view of a model. */
export interface TensorMetadata {
  readonly name: string;
  readonly versions: string[];
  readonly platform: string;
  readonly inputs: readonly TensorSpecView[];
  readonly outputs: readonly TensorSpecView[];
}

export interface TensorSpecView {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

/** An inference request with its tensors decoded. */
export interface InferRequest {
  readonly id?: string;
  readonly inputs: readonly Tensor[];
  /** Names of the outputs to return, in order; all when absent. */
  readonly outputs?: readonly string[];
}

export interface InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly outputs: readonly Tensor[];
}

/** Server name and the protocol extensions implemented, as `GET /v2` reports them. */
export const SERVER_NAME = 'longshore';
export const V2_EXTENSIONS = ['binary_tensor_data'] as const;

export class Dataplane {
  constructor(
    readonly registry: ModelRegistry,
    readonly serverVersion: string,
  ) {}

  /**
   * Why the server is not ready (empty when it is): draining, no models, required models not ready or with every call
   * slot stuck past its deadline, the heap past server.max_heap_ratio (see ModelRegistry.readinessProblems).
   */
  readinessProblems(): string[] {
    return this.registry.readinessProblems();
  }

  /**
   * The deep readiness check: the usual problems, else what the required models' self-tests find (rate-limited, see
   * ModelRegistry.deepCheckProblems).
   */
  async deepReadinessProblems(): Promise<string[]> {
    const problems = this.readinessProblems();
    return problems.length > 0 ? problems : this.registry.deepCheckProblems();
  }

  /** Throws 404 / 503 unless the model (at the version) can infer now; checked before a request body is decoded. */
  assertInferable(name: string, version: string | undefined): void {
    this.#versioned(name, version, true).assertReady();
  }

  /** The only input of a single-input model (for the raw binary form); 400 otherwise. */
  singleInput(name: string, version: string | undefined): TensorSpec {
    const model = this.#versioned(name, version, true);
    model.assertReady();
    const inputs = model.signature?.inputs ?? [];
    if (inputs.length !== 1) {
      throw new SchemaValidationError(`the raw binary form (Inference-Header-Content-Length: 0) needs a model with one input; '${name}' has ${inputs.length}`);
    }
    return inputs[0] as TensorSpec;
  }

  serverMetadata(): { name: string; version: string; extensions: string[] } {
    return { name: SERVER_NAME, version: this.serverVersion, extensions: [...V2_EXTENSIONS] };
  }

  /**
   * Whether a model (at a version, when given) is ready; unknown names or versions are 404, and so is a model without
   * an endpoint (create_endpoint: false): the protocol's routes hide it as its infer does.
   */
  modelReady(name: string, version?: string): boolean {
    const model = this.#versioned(name, version, true);
    this.registry.assertNotStuck(model); // 503 saying why: every call slot is stuck past its deadline
    return model.state === 'ready';
  }

  /** The tensor view of a model; 503 while it loads (an ONNX model learns its signature by loading); 404 as modelReady. */
  tensorMetadata(name: string, version?: string): TensorMetadata {
    const model = this.#versioned(name, version, true);
    const signature = model.signature;
    if (!signature) {
      if (model.state !== 'ready') model.assertReady();
      return { name: model.name, versions: [model.metadata.version], platform: RECORD_PLATFORM, inputs: [], outputs: [] };
    }
    const view = (specs: readonly TensorSpec[]) => specs.map(({ name: tensor, datatype, shape }) => ({ name: tensor, datatype, shape }));
    return { name: model.name, versions: [model.metadata.version], platform: signature.platform, inputs: view(signature.inputs), outputs: view(signature.outputs) };
  }

  async infer(name: string, version: string | undefined, request: InferRequest, options: CallOptions = {}): Promise<InferResponse> {
    const model = this.#versioned(name, version, true);
    return inferResponse(model, request, await model.infer(request.inputs, request.outputs, options));
  }

  /** The model, checking the version when one is named; `callable` also requires an endpoint. */
  #versioned(name: string, version: string | undefined, callable = false): ServedModel {
    const model = callable ? this.#callable(name) : this.registry.require(name);
    if (version !== undefined && version !== model.metadata.version) {
      throw new ModelNotFoundError(`model '${name}' has no version '${version}'; its version is '${model.metadata.version}'`);
    }
    return model;
  }

  /** Every model's load has finished. */
  started(): boolean {
    return this.registry.startupComplete;
  }

  /** The service should receive traffic (see ModelRegistry.isReady). */
  ready(): boolean {
    return this.registry.isReady();
  }

  listModels(): ModelListing[] {
    return this.registry.list().map((model) => model.listing());
  }

  describeModel(name: string): ModelDescription {
    const model = this.registry.require(name);
    const description: ModelDescription = {
      ...model.listing(),
      input_schema: model.inputSchema ?? null,
      output_schema: model.outputSchema ?? null,
      explain: model.explains,
      operations: model.operations,
      examples: model.examples,
    };
    const notes = model.notes;
    return notes.length > 0 ? { ...description, notes } : description;
  }

  predict(name: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.#callable(name).predict(input, options);
  }

  /** Predicts a batch; `inputs` must be an array of records (checked after the model is found, so 404 wins). */
  predictBatch(name: string, inputs: unknown, options: CallOptions = {}): Promise<unknown[]> {
    const model = this.#callable(name);
    if (!Array.isArray(inputs)) {
      throw new SchemaValidationError('a batch must be a JSON array of input records', { details: [{ path: '/', message: 'must be array' }] });
    }
    return model.predictBatch(inputs, options);
  }

  /**
   * Quality metrics over labelled examples (docs/score.md): the model's own score(), or metrics longshore computes from
   * its predictions. 404 for an unknown model, 503 unless ready, then 400 for a bad body.
   */
  score(name: string, body: unknown, options: CallOptions = {}): Promise<ScoreResponse> {
    return scoreModel(this.#callable(name), body, options);
  }

  /** Why the model answered what it did (its explain(); 501 when it has none). */
  explain(name: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.#callable(name).explain(input, options);
  }

  /** explain over Open Inference Protocol tensors: one JSON explanation per row, in a BYTES output `explanation`. */
  async explainTensors(name: string, version: string | undefined, request: InferRequest, options: CallOptions = {}): Promise<InferResponse> {
    const model = this.#versioned(name, version, true);
    return inferResponse(model, request, await model.explainTensors(request.inputs, options));
  }

  /** Throws 501 before a V2 explain body is decoded when the model has no explain(). */
  assertExplains(name: string, version: string | undefined): void {
    const model = this.#versioned(name, version, true);
    model.assertExplains();
    model.assertReady();
  }

  /** Runs a custom operation of the model (docs/operations.md). */
  runOperation(name: string, operation: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.#callable(name).runOperation(operation, input, options);
  }

  /** The model, if it may be called over the network (`create_endpoint` is true). */
  #callable(name: string): ServedModel {
    const model = this.registry.require(name);
    if (!model.createEndpoint) {
      throw new ModelNotFoundError(`model '${name}' is loaded but has no prediction endpoint (create_endpoint: false in its config entry)`);
    }
    return model;
  }
}

/** The protocol's response: the model's name and version, the request's id when it had one, the outputs. */
function inferResponse(model: ServedModel, request: InferRequest, outputs: readonly Tensor[]): InferResponse {
  const response = { model_name: model.name, model_version: model.metadata.version, outputs };
  return request.id === undefined ? response : { ...response, id: request.id };
}
