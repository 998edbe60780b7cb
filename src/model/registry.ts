/**
 * The model registry: the served models by name and version, and their lifecycle as a whole (load all, drain, unload
 * all). It only registers: models are assembled from the config by model/assembly.ts, changed at run time by
 * model/repository.ts, and readiness is the dataplane's (dataplane/readiness.ts).
 *
 * A name may have several versions. A call that names no version gets the newest ready one (config/versions.ts says
 * which is newest), else the newest, whose state then says why it cannot answer.
 */
import { compareVersions } from '../config/versions.js';
import { ModelNotFoundError } from '../errors.js';
import type { ServedModel } from './served-model.js';

/** server.max_loaded_models (load-limit.ts): which models load at start, and the load on demand of the others. */
export interface OnDemandLoads {
  atStart(models: readonly ServedModel[]): readonly ServedModel[];
  readonly demand: (model: ServedModel) => Promise<void>;
}

export class ModelRegistry {
  /** Each name's versions, oldest first. */
  readonly #models = new Map<string, ServedModel[]>();
  /** Names taken out of service at run time, with why (for the 404 that says how to bring them back). */
  readonly #removed = new Map<string, string>();
  #version = 0;
  #startupComplete = false;
  #draining = false;
  #onDemand: OnDemandLoads | undefined;
  readonly #bump = () => {
    this.#version++;
  };

  /** `models` have distinct (name, version) pairs (the assembly refuses duplicates). */
  constructor(models: readonly ServedModel[]) {
    for (const model of models) this.add(model);
  }

  /** Limits the models loaded at once (server.max_loaded_models): loadAll() loads only some, calls load the others. */
  limitLoads(loads: OnDemandLoads): void {
    this.#onDemand = loads;
    for (const model of this.list()) model.loadOnDemand(loads.demand);
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

  /** Every served model, every version: names in the order they were added, versions oldest first. */
  list(): ServedModel[] {
    return [...this.#models.values()].flat();
  }

  /** The names served. */
  names(): string[] {
    return [...this.#models.keys()];
  }

  /** The versions of `name`, oldest first (empty when it is not served). */
  versionsOf(name: string): readonly ServedModel[] {
    return this.#models.get(name) ?? [];
  }

  /** The model called `name` at `version`, or, with no version, its newest ready version (else its newest). */
  get(name: string, version?: string): ServedModel | undefined {
    const versions = this.#models.get(name);
    if (versions === undefined) return undefined;
    if (version !== undefined) return versions.find((model) => model.version === version);
    if (versions.length === 1) return versions[0];
    for (let at = versions.length - 1; at >= 0; at--) if ((versions[at] as ServedModel).state === 'ready') return versions[at];
    return versions[versions.length - 1];
  }

  /** As get(), or ModelNotFoundError listing the names (or the versions of the name) that exist. */
  require(name: string, version?: string): ServedModel {
    const model = this.get(name, version);
    if (model) return model;
    const versions = this.#models.get(name);
    if (versions !== undefined) {
      const known = versions.map((served) => served.version).join(', ');
      throw new ModelNotFoundError(`model '${name}' has no version '${version}'; its versions: ${known}`);
    }
    const removed = this.#removed.get(name);
    if (removed !== undefined) throw new ModelNotFoundError(`model '${name}' is not served: ${removed}`);
    const known = [...this.#models.keys()];
    throw new ModelNotFoundError(`model '${name}' not found; served models: ${known.length ? known.join(', ') : 'none'}`);
  }

  /** Serves `model` (beside the other versions of its name). A (name, version) already served is replaced: see replace(). */
  add(model: ServedModel): void {
    const versions = this.#models.get(model.name) ?? [];
    const kept = versions.filter((served) => served.version !== model.version);
    kept.push(model);
    kept.sort((a, b) => compareVersions(a.version, b.version));
    this.#models.set(model.name, kept);
    this.#removed.delete(model.name);
    model.onStateChange(this.#bump);
    if (this.#onDemand !== undefined) model.loadOnDemand(this.#onDemand.demand);
    this.#version++;
  }

  /** Switches traffic from `old` to `model` (same name and version) in one step; the caller drains `old`. */
  replace(old: ServedModel, model: ServedModel): void {
    old.offStateChange(this.#bump);
    this.add(model);
  }

  /** Takes `model` out of service (the caller drains and unloads it); `why` is said to callers of a name left with no version. */
  remove(model: ServedModel, why: string): void {
    const versions = (this.#models.get(model.name) ?? []).filter((served) => served !== model);
    model.offStateChange(this.#bump);
    if (versions.length > 0) this.#models.set(model.name, versions);
    else {
      this.#models.delete(model.name);
      this.#removed.set(model.name, why);
    }
    this.#version++;
  }

  /**
   * Loads every model concurrently (with server.max_loaded_models, the first N; the others load on their first call).
   * Resolves when all have finished (failures are recorded, not thrown).
   */
  async loadAll(): Promise<void> {
    const models = this.list();
    await Promise.all((this.#onDemand?.atStart(models) ?? models).map((model) => model.load()));
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
