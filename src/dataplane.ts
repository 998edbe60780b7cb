/**
 * The protocol-agnostic operations of the server (health, listing, metadata, prediction). REST routes, and later V2
 * routes, are thin adapters over this, so the protocols cannot disagree.
 */
import { ModelNotFoundError, SchemaValidationError } from './errors.js';
import type { JsonSchema } from './model/contract.js';
import type { ModelRegistry } from './model/registry.js';
import type { ModelListing, ServedModel } from './model/served-model.js';

/** `GET /api/models/{name}/metadata`: the listing plus both schemas (null until a model exposes them). */
export interface ModelDescription extends ModelListing {
  readonly input_schema: JsonSchema | null;
  readonly output_schema: JsonSchema | null;
  /** How the model is served, when there is something to say (e.g. ONNX outputs left out). */
  readonly notes?: readonly string[];
}

export class Dataplane {
  constructor(readonly registry: ModelRegistry) {}

  /** The process serves requests. */
  live(): boolean {
    return true;
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
    const description: ModelDescription = { ...model.listing(), input_schema: model.inputSchema ?? null, output_schema: model.outputSchema ?? null };
    const notes = model.model.notes;
    return notes && notes.length > 0 ? { ...description, notes } : description;
  }

  predict(name: string, input: unknown): Promise<unknown> {
    return this.#callable(name).predict(input);
  }

  /** Predicts a batch; `inputs` must be an array of records (checked after the model is found, so 404 wins). */
  predictBatch(name: string, inputs: unknown): Promise<unknown[]> {
    const model = this.#callable(name);
    if (!Array.isArray(inputs)) {
      throw new SchemaValidationError('a batch must be a JSON array of input records', { details: [{ path: '/', message: 'must be array' }] });
    }
    return model.predictBatch(inputs);
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
