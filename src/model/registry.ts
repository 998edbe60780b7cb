/**
 * The model registry: the served models by name, and their lifecycle as a whole (load all, drain, unload all). It only
 * registers: models are assembled from the config by model/assembly.ts, and readiness is the dataplane's
 * (dataplane/readiness.ts).
 */
import { ModelNotFoundError } from '../errors.js';
import type { ServedModel } from './served-model.js';

export class ModelRegistry {
  readonly #models = new Map<string, ServedModel>();
  #version = 0;
  #startupComplete = false;
  #draining = false;

  /** `models` have distinct names (the assembly refuses duplicates). */
  constructor(models: readonly ServedModel[]) {
    for (const model of models) {
      this.#models.set(model.name, model);
      model.onStateChange(() => {
        this.#version++;
      });
    }
  }

  /** Bumped on every state change, so derived documents (OpenAPI) know when to rebuild. */
  get version(): number {
    return this.#version;
  }

  /** True once every model's load has finished, successfully or not. */
  get startupComplete(): boolean {
    return this.#startupComplete;
  }

  get draining(): boolean {
    return this.#draining;
  }

  list(): ServedModel[] {
    return [...this.#models.values()];
  }

  get(name: string): ServedModel | undefined {
    return this.#models.get(name);
  }

  /** The model called `name`, or ModelNotFoundError listing the names that exist. */
  require(name: string): ServedModel {
    const model = this.#models.get(name);
    if (model) return model;
    const known = [...this.#models.keys()];
    throw new ModelNotFoundError(`model '${name}' not found; served models: ${known.length ? known.join(', ') : 'none'}`);
  }

  /** Loads every model concurrently. Resolves when all have finished (failures are recorded, not thrown). */
  async loadAll(): Promise<void> {
    await Promise.all(this.list().map((model) => model.load()));
    this.#startupComplete = true;
    this.#version++;
  }

  /** Flips readiness off before draining (so load balancers stop sending traffic first). */
  beginDrain(): void {
    this.#draining = true;
    this.#version++;
  }

  /** Drains and unloads every model. */
  async unloadAll(): Promise<void> {
    this.beginDrain();
    await Promise.all(this.list().map((model) => model.unload()));
  }
}
