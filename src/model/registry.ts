/**
 * The model registry: creates every configured model (failing fast with every config problem), owns their state
 * machines, loads them in the background and answers readiness for the whole service.
 */
import type { Logger } from 'pino';
import { configError, runtimeOf, type LoadedConfig } from '../config/load.js';
import { MODEL_NAME_PATTERN, type LongshoreConfig, type ModelEntry } from '../config/schema.js';
import { resolveServing } from '../config/serving.js';
import { MetricsCatalogue } from '../metrics/catalogue.js';
import { ModelNotFoundError, type ErrorDetail } from '../errors.js';
import { PredictionLogs } from '../monitoring/prediction-logs.js';
import { createModelFromEntry, EntryProblem } from '../runtimes/index.js';
import type { Model, ModelMetadata } from './contract.js';
import { ServedModel } from './served-model.js';

const NAME = new RegExp(MODEL_NAME_PATTERN);

export interface RegistryOptions {
  readonly logger: Logger;
  /** Report ready with zero models (health.ready_without_models). */
  readonly readyWithoutModels?: boolean;
  /** Label model metrics with model and version (metrics.model_labels). */
  readonly modelLabels?: boolean;
}

export class ModelRegistry {
  readonly #models = new Map<string, ServedModel>();
  /** Index of each model's entry in the config's `models`, to point messages at its lines. */
  readonly #entryIndex = new Map<string, number>();
  readonly #readyWithoutModels: boolean;
  /** Every metric of this server; models bind their children at creation. */
  readonly metrics: MetricsCatalogue;
  /** The prediction logs (model monitoring) of the models that have one on. */
  #predictionLogs: PredictionLogs | undefined;
  #version = 0;
  #startupComplete = false;
  #draining = false;

  private constructor(options: RegistryOptions) {
    this.#readyWithoutModels = options.readyWithoutModels ?? false;
    this.metrics = new MetricsCatalogue({ modelLabels: options.modelLabels ?? true });
  }

  /**
   * Imports and constructs every model of the config, compiling the schemas they already expose. Does not call
   * load(). Throws one ConfigError listing every problem (file, key path, line) when any entry is bad.
   */
  static async fromConfig(loaded: LoadedConfig, logger: Logger): Promise<ModelRegistry> {
    const registry = new ModelRegistry({ logger, readyWithoutModels: loaded.config.health.ready_without_models, modelLabels: loaded.config.metrics.model_labels });
    registry.#predictionLogs = new PredictionLogs({
      registry: registry.metrics.registry,
      logger,
      monitoring: loaded.config.monitoring,
      configDir: loaded.dir,
      modelLabels: loaded.config.metrics.model_labels,
    });
    const problems: ErrorDetail[] = [];
    const created = await Promise.all(
      loaded.config.models.map(async (entry, index) => {
        try {
          return registry.#serve(await createModelFromEntry(entry, loaded.dir), entry, loaded.config.defaults, logger);
        } catch (error) {
          const key = error instanceof EntryProblem ? error.key : 'class_path';
          problems.push(loaded.problem(['models', index, ...(typeof key === 'string' ? [key] : key)], (error as Error).message));
          return undefined;
        }
      }),
    );
    const firstIndex = new Map<string, number>();
    created.forEach((served, index) => {
      if (!served) return;
      const previous = firstIndex.get(served.name);
      if (previous === undefined) {
        firstIndex.set(served.name, index);
        registry.#models.set(served.name, served);
        registry.#entryIndex.set(served.name, index);
      } else {
        const key = loaded.config.models[index]?.qualified_name === undefined ? 'class_path' : 'qualified_name';
        problems.push(loaded.problem(['models', index, key], `duplicate qualified_name '${served.name}' (also used by models[${previous}]); set a distinct qualified_name on this entry`));
      }
    });
    if (problems.length > 0) throw configError(loaded.file, problems);
    return registry;
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

  /**
   * Ready: not draining, and every required model is ready; a model with `required: false` never holds readiness
   * back, even while it loads. With no models at all, ready only if configured so.
   */
  isReady(): boolean {
    if (this.#draining) return false;
    if (this.#models.size === 0) return this.#readyWithoutModels && this.#startupComplete;
    for (const model of this.#models.values()) if (model.required && model.state !== 'ready') return false;
    return true;
  }

  /** Position of the model's entry in the config's `models` list. */
  entryIndexOf(name: string): number | undefined {
    return this.#entryIndex.get(name);
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

  /** Drains, unloads every model, then writes what the prediction logs still hold (bounded wait) and closes them. */
  async unloadAll(): Promise<void> {
    this.beginDrain();
    await Promise.all(this.list().map((model) => model.unload()));
    await this.#predictionLogs?.closeAll();
  }

  #serve(model: Model, entry: ModelEntry, defaults: LongshoreConfig['defaults'], logger: Logger): ServedModel {
    const metadata = resolveMetadata(model, entry);
    const recorder = this.#predictionLogs?.forModel(metadata.qualified_name, entry.monitoring);
    return new ServedModel(model, {
      metadata,
      serving: resolveServing(entry, defaults, runtimeOf(entry)),
      observer: this.metrics.observerFor(metadata.qualified_name, metadata.version),
      modelObserver: this.metrics.modelObserverFor(metadata.qualified_name, metadata.version),
      createEndpoint: entry.create_endpoint,
      required: entry.required,
      logger,
      ...(recorder ? { recorder } : {}),
      onStateChange: () => {
        this.#version++;
      },
    });
  }
}

/** The model's own metadata with the entry's overrides applied; throws EntryProblem when a field is unusable. */
function resolveMetadata(model: Model, entry: ModelEntry): ModelMetadata {
  const qualifiedName = entry.qualified_name ?? model.qualified_name;
  if (typeof qualifiedName !== 'string' || !NAME.test(qualifiedName)) {
    throw new EntryProblem(
      'class_path',
      qualifiedName === undefined
        ? `the model has no qualified_name; set it on the class or as qualified_name in this entry`
        : `qualified_name ${JSON.stringify(qualifiedName)} is not usable in a URL; use letters, digits, '_', '.' or '-'`,
    );
  }
  const version = entry.version ?? model.version ?? '1';
  return {
    qualified_name: qualifiedName,
    // A display name that only mirrors the model's own default name follows a rename in the entry.
    display_name: entry.display_name ?? (model.display_name === model.qualified_name ? qualifiedName : (model.display_name ?? qualifiedName)),
    description: entry.description ?? model.description ?? '',
    version: String(version),
  };
}
