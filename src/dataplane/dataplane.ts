/**
 * The protocol-agnostic core: every operation of the server, each done once, for the REST and Open Inference Protocol
 * adapters (and any later one) alike. A model call looks its model up once (404: unknown name or version, or no
 * endpoint), checks readiness once (`ServedModel.ready()`: 503), and only then decodes the request, through a function
 * the adapter passes in, so a bad body is never decoded for a model that cannot answer it. The registry stays private.
 */
import type { CallContext } from '../call-context.js';
import { ModelNotFoundError, NotImplementedError, SchemaValidationError, type LongshoreError } from '../errors.js';
import { notExplainableError } from '../model/call-errors.js';
import type { ModelOperation } from '../metrics/catalogue.js';
import type { CallPath } from '../model/call-path.js';
import { RECORD_PLATFORM } from '../model/model-schemas.js';
import type { ModelRegistry } from '../model/registry.js';
import type { IndexEntry, ModelRepository } from '../model/repository.js';
import { scoreModel, type ScoreResponse } from '../model/score.js';
import type { ServedModel } from '../model/served-model.js';
import type { Tensor, TensorSpec } from '../tensors/tensor.js';
import type { InferRequest, InferResponse, ModelDescription, ModelListing, ServerMetadata, TensorMetadata } from '../wire.js';
import { checkDimensions, countTokens, embeddingModelOf, vectorsOf, type Embeddings } from './embeddings.js';
import type { Readiness } from './readiness.js';
import { explainTensors, inferTensors } from './tensor-calls.js';

/** Server name and the protocol extensions implemented, as `GET /v2` reports them. */
export const SERVER_NAME = 'longshore';
export const V2_EXTENSIONS = ['binary_tensor_data'] as const;

/** A model call that queues, as the arrival check (http/admission.ts) names it. */
export type ArrivingCall = 'predict' | 'predict_batch' | 'score' | 'infer' | 'explain';

/** Decodes a request body once the model is known to answer: `rawInput` is the only input of a single-input model. */
export type DecodeTensors<R extends InferRequest> = (rawInput: () => TensorSpec) => R;

/** What a model's documentation needs (the OpenAPI document, http/openapi.ts): a ServedModel is one. */
export type DocumentedModel = Pick<
  ServedModel,
  'name' | 'version' | 'metadata' | 'createEndpoint' | 'inputSchema' | 'outputSchema' | 'requestExamples' | 'explains' | 'operations'
>;

export class Dataplane {
  readonly #registry: ModelRegistry;
  readonly #serverVersion: string;
  readonly readiness: Readiness;
  /** The repository API's operations, when server.repository_api is on. */
  readonly #repository: ModelRepository | undefined;

  constructor(registry: ModelRegistry, readiness: Readiness, serverVersion: string, repository?: ModelRepository) {
    this.#registry = registry;
    this.readiness = readiness;
    this.#serverVersion = serverVersion;
    this.#repository = repository;
  }

  // Health.

  /** Shutdown has begun: readiness is off, and answers close their connections (http/app.ts). */
  get draining(): boolean {
    return this.#registry.draining;
  }

  /** Every model's load has finished. */
  started(): boolean {
    return this.#registry.startupComplete;
  }

  /** Why the service is not ready (empty when it is): this process's problems (Readiness), then the gate's. */
  readinessProblems(): string[] {
    return [...this.readiness.problems(), ...this.readiness.gateProblems()];
  }

  /** The service should receive traffic. */
  ready(): boolean {
    return this.readinessProblems().length === 0;
  }

  /** The problems a running, not draining server reports with its 503 (stuck models, the heap); see Readiness. */
  runtimeProblems(): string[] {
    return this.#registry.draining ? [] : this.readiness.runtimeProblems();
  }

  /** The deep check: the usual problems, else what the required models' self-tests find (rate-limited); then the gate's. */
  async deepReadinessProblems(): Promise<string[]> {
    return [...(await this.readiness.deepProblems()), ...this.readiness.gateProblems()];
  }

  // Listing and metadata.

  serverMetadata(): ServerMetadata {
    return { name: SERVER_NAME, version: this.#serverVersion, extensions: this.#repository ? [...V2_EXTENSIONS, 'model_repository'] : [...V2_EXTENSIONS] };
  }

  // The model repository (server.repository_api): docs/model-repository.md.

  /** Whether the repository API is served. */
  get repositoryApi(): boolean {
    return this.#repository !== undefined;
  }

  /** Every model version known, with its state and why it is not ready (`readyOnly`: the ready ones). */
  repositoryIndex(readyOnly: boolean): IndexEntry[] {
    return this.#repositoryOrThrow().index(readyOnly);
  }

  /** Loads (or reloads) a model beside what serves it now; see ModelRepository.load. */
  loadModel(name: string, override: Record<string, unknown> | undefined): Promise<IndexEntry[]> {
    return this.#repositoryOrThrow().load(name, override);
  }

  /** Drains and unloads every version of a model; see ModelRepository.unload. */
  unloadModel(name: string, dependents: boolean): Promise<IndexEntry[]> {
    return this.#repositoryOrThrow().unload(name, dependents);
  }

  #repositoryOrThrow(): ModelRepository {
    if (this.#repository === undefined) throw new NotImplementedError('the model repository API is off; turn it on with server.repository_api: true or --repository-api');
    return this.#repository;
  }

  /** Bumped on every change of a model's state, so documents derived from the models (OpenAPI) know when to rebuild. */
  get modelsVersion(): number {
    return this.#registry.version;
  }

  /** Every model, for its documentation. */
  documentedModels(): readonly DocumentedModel[] {
    return this.#registry.list();
  }

  /** The model the default routes of `name` reach now (its newest ready version). */
  documentedDefault(name: string): DocumentedModel | undefined {
    return this.#registry.get(name);
  }

  listModels(): ModelListing[] {
    return this.#registry.list().map((model) => model.listing());
  }

  async describeModel(name: string, version?: string): Promise<ModelDescription> {
    const model = this.#registry.require(name, version);
    const memory = await model.memory();
    const description: ModelDescription = {
      ...model.listing(),
      input_schema: model.inputSchema ?? null,
      output_schema: model.outputSchema ?? null,
      explain: model.explains,
      operations: model.operations,
      examples: model.examples,
      memory,
    };
    const notes = model.notes;
    return notes.length > 0 ? { ...description, notes } : description;
  }

  /**
   * Throws unless the model (at the version, when given) is ready: 404 for an unknown name or version and for a model
   * without an endpoint (the protocol's routes hide it as its infer does), 503 saying why otherwise (loading, failed,
   * or every call slot stuck past its deadline).
   */
  assertModelReady(name: string, version?: string): void {
    const model = this.#endpoint(name, version);
    const stuck = model.queue?.stuckRefusal();
    if (stuck) throw stuck;
    model.ready();
  }

  /** The tensor view of a model; 503 while it loads (an ONNX model learns its signature by loading); 404 as above. */
  tensorMetadata(name: string, version?: string): TensorMetadata {
    const model = this.#endpoint(name, version);
    const signature = model.signature;
    if (!signature) {
      model.ready(); // 503 unless ready
      return { name: model.name, versions: this.#versionsShown(model, version), platform: RECORD_PLATFORM, inputs: [], outputs: [] };
    }
    const view = (specs: readonly TensorSpec[]) => specs.map(({ name: tensor, datatype, shape }) => ({ name: tensor, datatype, shape }));
    return {
      name: model.name,
      versions: this.#versionsShown(model, version),
      platform: signature.platform,
      inputs: view(signature.inputs),
      outputs: view(signature.outputs),
    };
  }

  // Model calls: lookup (404), readiness (503), then the body.

  predict(name: string, version: string | undefined, input: unknown, context: CallContext): Promise<unknown> {
    return this.#endpoint(name, version).use((calls) => calls.predict(input, context), context.timeoutMs);
  }

  /** Predicts a batch; `inputs` must be an array of records (checked after 404 and 503). */
  predictBatch(name: string, version: string | undefined, inputs: unknown, context: CallContext): Promise<unknown[]> {
    return this.#endpoint(name, version).use((calls) => {
      if (!Array.isArray(inputs)) {
        throw new SchemaValidationError('a batch must be a JSON array of input records', { details: [{ path: '/', message: 'must be array' }] });
      }
      return calls.predictBatch(inputs, context);
    }, context.timeoutMs);
  }

  /**
   * One vector per text (`POST /v1/embeddings`, dataplane/embeddings.ts): 404 for the name or version, 400 for a model
   * that gives no vector per text or a `dimensions` over its size, then the texts as one /predictions call (`{text}`
   * records), vectors cut to `dimensions` when given, and the tokens the texts used.
   */
  embeddings(name: string, version: string | undefined, texts: readonly string[], dimensions: number | undefined, context: CallContext): Promise<Embeddings> {
    const served = this.#endpoint(name, version);
    const model = embeddingModelOf(served.name, served.model);
    checkDimensions(served.name, model, dimensions);
    return served.use(async (calls) => {
      const outputs = await calls.predictBatch(texts.map((text) => ({ text })), context);
      return { vectors: vectorsOf(served.name, model, outputs, dimensions), promptTokens: countTokens(model, texts) };
    }, context.timeoutMs);
  }

  /** Quality metrics over labelled examples (docs/score.md): the model's own score(), or metrics from its predictions. */
  score(name: string, version: string | undefined, body: unknown, context: CallContext): Promise<ScoreResponse> {
    return this.#endpoint(name, version).use((calls) => scoreModel(calls, body, context), context.timeoutMs);
  }

  /** Why the model answered what it did (its explain(); 501 when it has none). */
  explain(name: string, version: string | undefined, input: unknown, context: CallContext): Promise<unknown> {
    return this.#explaining(name, version).use((calls) => calls.explain(input, context), context.timeoutMs);
  }

  /** Runs a custom operation of the model (docs/operations.md). */
  runOperation(name: string, version: string | undefined, operation: string, input: unknown, context: CallContext): Promise<unknown> {
    return this.#endpoint(name, version).use((calls) => calls.runOperation(operation, input, context), context.timeoutMs);
  }

  /**
   * Open Inference Protocol inference: the body is decoded (`decode`) only after the model was found ready, and the
   * call's context may depend on it (`contextOf`: a deadline in the body's parameters). Returns the decoded request
   * with the response, since encoding the response depends on what the request asked for.
   */
  infer<R extends InferRequest>(name: string, version: string | undefined, decode: DecodeTensors<R>, contextOf: (request: R) => CallContext): Promise<{ request: R; response: InferResponse }> {
    return this.#endpoint(name, version).use(async (calls) => {
      const request = decode(() => singleInput(calls));
      const outputs = await inferTensors(calls, request.inputs, request.outputs, contextOf(request));
      return { request, response: inferResponse(calls, request, outputs) };
    });
  }

  /** explain over Open Inference Protocol tensors (501 before the body is decoded when the model has no explain()). */
  explainTensors<R extends InferRequest>(name: string, version: string | undefined, decode: DecodeTensors<R>, contextOf: (request: R) => CallContext): Promise<{ request: R; response: InferResponse }> {
    return this.#explaining(name, version).use(async (calls) => {
      const request = decode(() => singleInput(calls));
      const outputs = await explainTensors(calls, request.inputs, contextOf(request));
      return { request, response: inferResponse(calls, request, outputs) };
    });
  }

  /**
   * The refusal of a call that arrives while its model's queue is full (503 QueueFullError), before its body is read;
   * undefined when the call may go on. The answers that outrank a full queue (404, 501, 503 not ready) are returned
   * instead when they apply. One map lookup and one comparison when the queue is not full.
   */
  refusalOnArrival(name: string, version: string | undefined, call: ArrivingCall): LongshoreError | undefined {
    const model = this.#registry.get(name, version);
    const queue = model?.queue;
    if (model === undefined || queue === undefined || !queue.full) return undefined;
    try {
      if (call === 'explain') this.#explaining(name, version);
      else this.#endpoint(name, version).ready();
    } catch (error) {
      return error as LongshoreError;
    }
    return queue.refuseOnArrival(countedOperation(model, call));
  }

  /** The model (404: name, version, endpoint), with 501 when it has no explain(); use() then gives the 503. */
  #explaining(name: string, version: string | undefined): ServedModel {
    const model = this.#endpoint(name, version);
    if (!model.explains) throw notExplainableError(name);
    return model;
  }

  /** The versions metadata shows: the one asked for, else every version served under the name. */
  #versionsShown(model: ServedModel, version: string | undefined): string[] {
    return version === undefined ? this.#registry.versionsOf(model.name).map((served) => served.version) : [model.version];
  }

  /** The model, if it may be called over the network (`create_endpoint` is true), at the version when one is named. */
  #endpoint(name: string, version: string | undefined): ServedModel {
    if (this.#registry.get(name)?.createEndpoint === false) {
      throw new ModelNotFoundError(`model '${name}' is loaded but has no prediction endpoint (create_endpoint: false in its config entry)`);
    }
    return this.#registry.require(name, version);
  }
}

/** The only input of a single-input model (for the raw binary form); 400 otherwise. */
function singleInput(calls: CallPath): TensorSpec {
  const inputs = calls.signature?.inputs ?? [];
  if (inputs.length !== 1) {
    throw new SchemaValidationError(`the raw binary form (Inference-Header-Content-Length: 0) needs a model with one input; '${calls.name}' has ${inputs.length}`);
  }
  return inputs[0] as TensorSpec;
}

/** The call the model's metrics count for an arriving call, if any (a model's own score() is not a counted call). */
function countedOperation(model: ServedModel, call: ArrivingCall): ModelOperation | undefined {
  if (call === 'explain') return undefined;
  if (call === 'score') return model.model.score ? undefined : 'predict_batch';
  return call;
}

/** The protocol's response: the model's name and version, the request's id when it had one, the outputs. */
function inferResponse(calls: CallPath, request: InferRequest, outputs: readonly Tensor[]): InferResponse {
  const response = { model_name: calls.name, model_version: calls.version, outputs };
  return request.id === undefined ? response : { ...response, id: request.id };
}
