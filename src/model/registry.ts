/**
 * The model registry: creates every configured model (failing fast with every config problem), owns their state
 * machines, loads them in the background and answers readiness for the whole service.
 */
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import { configError, nameKeyOf, runtimeOf, type LoadedConfig } from '../config/load.js';
import type { LongshoreConfig, ModelEntry } from '../config/schema.js';
import { resolveServing } from '../config/serving.js';
import { MetricsCatalogue } from '../metrics/catalogue.js';
import { ModelNotFoundError, type ErrorDetail } from '../errors.js';
import { PredictionLogs } from '../monitoring/prediction-logs.js';
import { createModelFromEntry, EntryProblem } from '../runtimes/index.js';
import { splitClassPath } from '../runtimes/module.js';
import { createDecorators } from '../decorators/create.js';
import type { NamedDecorator } from '../decorators/chain.js';
import { createGraphModel } from '../graphs/index.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import { WATCH_WORKERS, watchesWorkers } from '../runtimes/worker-protocol.js';
import type { DecoratorSetup } from './contract.js';
import { resolveMetadata, type ServedMetadata } from './metadata.js';
import { ServedModel } from './served-model.js';

export interface RegistryOptions {
  readonly logger: Logger;
  /** Report ready with zero models (health.ready_without_models). */
  readonly readyWithoutModels?: boolean;
  /** Label model metrics with model and version (metrics.model_labels). */
  readonly modelLabels?: boolean;
  /** The config file's directory (decorators resolve their paths against it). */
  readonly configDir?: string;
  /** Least time between two runs of the self-tests for the deep readiness probe (health.deep_check_interval_ms). */
  readonly deepCheckIntervalMs?: number;
  /** Not ready past this share of the heap limit (server.max_heap_ratio); 0 or 1: no check. */
  readonly maxHeapRatio?: number;
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

  readonly #modelLabels: boolean;
  readonly #configDir: string;
  readonly #deepCheckIntervalMs: number;
  readonly #maxHeapRatio: number;
  /** Which model's code a stack points into (uncaught errors on the main thread). */
  readonly #files = new ModelFiles();
  /** The last deep check: when it started and what it found (shared by the probes within the interval). */
  #deepCheck: { readonly startedAt: number; readonly problems: Promise<string[]> } | undefined;

  private constructor(options: RegistryOptions) {
    this.#readyWithoutModels = options.readyWithoutModels ?? false;
    this.#modelLabels = options.modelLabels ?? true;
    this.#configDir = options.configDir ?? process.cwd();
    this.#deepCheckIntervalMs = options.deepCheckIntervalMs ?? 10_000;
    this.#maxHeapRatio = options.maxHeapRatio ?? 0;
    this.metrics = new MetricsCatalogue({ modelLabels: options.modelLabels ?? true });
  }

  /**
   * Imports and constructs every model of the config, compiling the schemas they already expose. Does not call
   * load(). Throws one ConfigError listing every problem (file, key path, line) when any entry is bad.
   */
  static async fromConfig(loaded: LoadedConfig, logger: Logger): Promise<ModelRegistry> {
    const registry = new ModelRegistry({
      logger,
      readyWithoutModels: loaded.config.health.ready_without_models,
      modelLabels: loaded.config.metrics.model_labels,
      configDir: loaded.dir,
      deepCheckIntervalMs: loaded.config.health.deep_check_interval_ms,
      maxHeapRatio: loaded.config.server.max_heap_ratio,
    });
    registry.#predictionLogs = new PredictionLogs({
      registry: registry.metrics.registry,
      logger,
      monitoring: loaded.config.monitoring,
      configDir: loaded.dir,
      modelLabels: loaded.config.metrics.model_labels,
    });
    const problems: ErrorDetail[] = [];
    const entries = loaded.config.models;
    const reportProblem = (index: number, error: unknown) => {
      const key = error instanceof EntryProblem ? error.key : 'class_path';
      problems.push(loaded.problem(['models', index, ...(typeof key === 'string' ? [key] : key)], (error as Error).message));
    };
    const serveEntry = async (entry: ModelEntry, index: number, model: RuntimeModel | Promise<RuntimeModel>) => {
      try {
        const metadata = resolveMetadata(await model, entry);
        const decorators = await createDecorators(entry.decorators, registry.#decoratorSetup(metadata, logger), loaded.dir);
        return registry.#serve(await model, metadata, entry, decorators, loaded.config.defaults, logger);
      } catch (error) {
        reportProblem(index, error);
        return undefined;
      }
    };
    // Models with code or a file first, all at once; then graphs in file order, each seeing the models above it.
    const created: (ServedModel | undefined)[] = await Promise.all(
      entries.map((entry, index) => (runtimeOf(entry) === 'graph' ? undefined : serveEntry(entry, index, createModelFromEntry(entry, loaded.dir)))),
    );
    for (const [index, entry] of entries.entries()) {
      if (runtimeOf(entry) !== 'graph') continue;
      const usable = () =>
        created.filter((served, at): served is ServedModel => served !== undefined && (runtimeOf(entries[at] as ModelEntry) !== 'graph' || at < index));
      const members = (name: string) => usable().find((served) => served.name === name);
      let graph: RuntimeModel;
      try {
        graph = createGraphModel(entry, members, () => usable().map((served) => served.name));
      } catch (error) {
        reportProblem(index, error);
        continue;
      }
      created[index] = await serveEntry(entry, index, graph);
    }
    const firstIndex = new Map<string, number>();
    created.forEach((served, index) => {
      if (!served) return;
      const previous = firstIndex.get(served.name);
      if (previous === undefined) {
        firstIndex.set(served.name, index);
        registry.#models.set(served.name, served);
        registry.#entryIndex.set(served.name, index);
        registry.#files.add(served.name, loaded.config.models[index]?.class_path, loaded.dir);
      } else {
        const key = nameKeyOf(loaded.config.models[index] as ModelEntry);
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
   * Ready: not draining, every required model ready (and not with every call slot stuck past its deadline), and the
   * heap below server.max_heap_ratio of its limit; a model with `required: false` never holds readiness back, even
   * while it loads. With no models at all, ready only if configured so.
   */
  isReady(): boolean {
    return this.readinessProblems().length === 0;
  }

  /** Why the server is not ready, one line each; empty when it is. Cheap: a loop over the models and one heap read. */
  readinessProblems(): string[] {
    if (this.#draining) return ['the server is shutting down'];
    const problems: string[] = [];
    if (this.#models.size === 0 && !(this.#readyWithoutModels && this.#startupComplete)) problems.push('no models are configured');
    for (const model of this.#models.values()) if (model.required && model.state !== 'ready') problems.push(`model '${model.name}' is ${model.state}`);
    problems.push(...this.runtimeProblems());
    return problems;
  }

  /**
   * The readiness problems of a server that runs (not of loading or shutting down): required models with every call
   * slot stuck past its deadline, and the heap past server.max_heap_ratio of its limit.
   */
  runtimeProblems(): string[] {
    const problems: string[] = [];
    for (const model of this.#models.values()) {
      const problem = model.required && model.state === 'ready' ? this.#modelProblem(model) : undefined;
      if (problem !== undefined) problems.push(problem);
    }
    const heap = this.#heapProblem();
    if (heap !== undefined) problems.push(heap);
    return problems;
  }

  /** Why a loaded model cannot serve although its state is ready: `model 'x': 2 of 2 calls stuck past their deadline`. */
  #modelProblem(model: ServedModel): string | undefined {
    return model.queue?.stuckProblem();
  }

  /** Throws 503 ModelNotReadyError (with Retry-After) when every call slot of the model is stuck past its deadline. */
  assertNotStuck(model: ServedModel): void {
    const refusal = model.queue?.stuckRefusal();
    if (refusal) throw refusal;
  }

  /** The heap in use past server.max_heap_ratio of the heap limit, as a readiness problem. */
  #heapProblem(): string | undefined {
    const ratio = this.#maxHeapRatio;
    if (!(ratio > 0 && ratio < 1)) return undefined;
    const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
    if (used <= ratio * limit) return undefined;
    return (
      `the heap in use (${mebibytes(used)} MiB) is ${Math.round((used / limit) * 100)}% of its limit (${mebibytes(limit)} MiB), ` +
      `above server.max_heap_ratio ${ratio}: a model may be leaking memory`
    );
  }

  /** The model whose code the error's stack points into (an uncaught error on the main thread), if any. */
  modelOfError(error: unknown): string | undefined {
    return this.#files.modelOf(error);
  }

  /**
   * The deep readiness check (`/api/health/ready?deep=true`): re-runs the self-tests of every required model, at most
   * once per `health.deep_check_interval_ms` (a probe in between gets the last result, so probes cannot flood the
   * models). One line per failing example, naming its model; empty when all pass.
   */
  deepCheckProblems(): Promise<string[]> {
    const now = performance.now();
    if (this.#deepCheck && now - this.#deepCheck.startedAt < this.#deepCheckIntervalMs) return this.#deepCheck.problems;
    const problems = Promise.all(
      this.list()
        .filter((model) => model.required)
        .map(async (model) => (await model.selfTest()).map((problem) => `model '${model.name}': ${problem}`)),
    ).then((lists) => lists.flat());
    this.#deepCheck = { startedAt: now, problems };
    return problems;
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

  #decoratorSetup(metadata: ServedMetadata, logger: Logger): DecoratorSetup {
    return {
      model: metadata.qualified_name,
      version: metadata.version,
      configDir: this.#configDir,
      metrics: this.metrics.registry,
      modelLabels: this.#modelLabels,
      logger: logger.child({ model: metadata.qualified_name }),
    };
  }

  #serve(
    model: RuntimeModel,
    metadata: ServedMetadata,
    entry: ModelEntry,
    decorators: NamedDecorator[],
    defaults: LongshoreConfig['defaults'],
    logger: Logger,
  ): ServedModel {
    const recorder = this.#predictionLogs?.forModel(metadata.qualified_name, entry.monitoring);
    const name = metadata.qualified_name;
    if (watchesWorkers(model)) {
      const modelLogger = logger.child({ model: name });
      model[WATCH_WORKERS]((restart) => {
        this.metrics.workerRestarted(name, restart.reason);
        modelLogger.warn({ reason: restart.reason, detail: restart.detail }, `model '${name}': a worker thread was replaced (${restart.detail}); the new thread loads the model again`);
      });
    }
    // `served` is read by the readiness gauge at scrape time only, after it is constructed.
    const served: ServedModel = new ServedModel(model, {
      metadata,
      serving: resolveServing(entry, defaults, runtimeOf(entry)),
      observer: this.metrics.observerFor(name, metadata.version),
      modelObserver: this.metrics.modelObserverFor(name, metadata.version, () => this.#modelProblem(served) === undefined),
      createEndpoint: entry.create_endpoint,
      decorators,
      examples: entry.examples ?? [],
      required: entry.required,
      logger,
      ...(recorder ? { recorder } : {}),
      onStateChange: () => {
        this.#version++;
      },
    });
    return served;
  }
}

function mebibytes(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

/**
 * Where each code model's class lives, to name the model an uncaught error on the main thread came from: the first
 * frame of its stack in a model's file, else in the directory of exactly one model's file (a helper module next to
 * it), else in a model package (`node_modules/<package>/`).
 */
class ModelFiles {
  readonly #files: { readonly model: string; readonly file?: string; readonly dir?: string; readonly packagePath?: string }[] = [];

  add(model: string, classPath: string | undefined, configDir: string): void {
    if (classPath === undefined) return;
    const { specifier } = splitClassPath(classPath);
    if (specifier.startsWith('file:') || specifier.startsWith('.') || isAbsolute(specifier)) {
      const file = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(configDir, specifier);
      this.#files.push({ model, file, dir: dirname(file) + sep });
    } else {
      const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
      this.#files.push({ model, packagePath: `${sep}node_modules${sep}${name}${sep}` });
    }
  }

  modelOf(error: unknown): string | undefined {
    const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : undefined;
    if (stack === undefined || this.#files.length === 0) return undefined;
    for (const path of stackPaths(stack)) {
      const exact = this.#files.find((entry) => entry.file === path);
      if (exact) return exact.model;
      const near = path.includes(`${sep}node_modules${sep}`) ? [] : this.#files.filter((entry) => entry.dir !== undefined && path.startsWith(entry.dir));
      if (near.length > 0 && near.every((entry) => entry.model === near[0]?.model)) return near[0]?.model;
      const inPackage = this.#files.find((entry) => entry.packagePath !== undefined && path.includes(entry.packagePath));
      if (inPackage) return inPackage.model;
    }
    return undefined;
  }
}

/** The file of each frame of a V8 stack, top first: `at f (/a/b.ts:3:9)`, `at file:///a/b.ts:3:9`. */
function stackPaths(stack: string): string[] {
  const paths: string[] = [];
  for (const line of stack.split('\n')) {
    const match = /^\s*at (?:.*? \()?(.+?):\d+:\d+\)?$/.exec(line);
    const location = match?.[1];
    if (location === undefined) continue;
    try {
      paths.push(location.startsWith('file:') ? fileURLToPath(location) : location);
    } catch {
      // not a file location (node:internal, eval)
    }
  }
  return paths;
}
