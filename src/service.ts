/**
 * One service, assembled but not started: the metrics catalogue and the prediction logs (created here and injected),
 * every configured model (model/assembly.ts), the registry over them and the dataplane over the registry. Nothing is
 * loaded and nothing listens: `startServer()` (server.ts) builds the HTTP app over `dataplane` and starts the loads;
 * `longshore validate` and `openapi` load and unload without listening.
 */
import type { Logger } from 'pino';
import type { LoadedConfig } from './config/load.js';
import { Dataplane } from './dataplane/dataplane.js';
import { Readiness } from './dataplane/readiness.js';
import { MetricsCatalogue } from './metrics/catalogue.js';
import { createServedModels } from './model/assembly.js';
import { LoadLimit } from './model/load-limit.js';
import { ModelRegistry } from './model/registry.js';
import { ModelRepository } from './model/repository.js';
import { PredictionLogs } from './monitoring/prediction-logs.js';
import { LONGSHORE_VERSION } from './version.js';

export interface Service {
  readonly registry: ModelRegistry;
  readonly dataplane: Dataplane;
  /** Every metric of this service; models bind their children at creation. */
  readonly metrics: MetricsCatalogue;
  readonly predictionLogs: PredictionLogs;
  /** Loads, unloads and reloads models while serving (the repository API, SIGHUP). */
  readonly repository: ModelRepository;
  /** Position of a model's entry in the config's `models` (to point messages at its lines). */
  entryIndexOf(name: string): number | undefined;
  /** The model whose code an error's stack points into (an uncaught error on the main thread), if any. */
  modelOfError(error: unknown): string | undefined;
  /** Drains, unloads every model, then writes what the prediction logs still hold (bounded wait) and closes them. */
  unloadAll(): Promise<void>;
}

export interface ServiceOptions {
  /** Reads the config again, as at start (the repository's load and reload); default: the config given, as it was. */
  readonly reread?: () => LoadedConfig;
}

/**
 * Imports and constructs every model of the config, compiling the schemas they already expose. Does not call load().
 * Throws one ConfigError listing every problem (file, key path, line) when any entry is bad.
 */
export async function createService(loaded: LoadedConfig, logger: Logger, options: ServiceOptions = {}): Promise<Service> {
  const { config } = loaded;
  const metrics = new MetricsCatalogue({ modelLabels: config.metrics.model_labels });
  const predictionLogs = new PredictionLogs({
    registry: metrics.registry,
    logger,
    configDir: loaded.dir,
    modelLabels: config.metrics.model_labels,
  });
  // Graph members are looked up in the registry once it exists, so a graph calls a member's newest version.
  const live: { registry?: ModelRegistry } = {};
  const services = { metrics, predictionLogs, logger, served: (name: string) => live.registry?.get(name) };
  const { models, entryIndex, files, entries } = await createServedModels(loaded, services);
  const registry = new ModelRegistry(models);
  live.registry = registry;
  if (config.server.max_loaded_models > 0) {
    registry.limitLoads(
      new LoadLimit({
        max: config.server.max_loaded_models,
        models: () => registry.list(),
        draining: () => registry.draining,
        drainTimeoutMs: config.server.shutdown_timeout_ms,
        logger,
        evicted: (model) => metrics.modelEvicted(model),
      }),
    );
  }
  const repository = new ModelRepository({
    registry,
    services,
    loaded,
    entries,
    reread: options.reread ?? (() => loaded),
    drainTimeoutMs: config.server.shutdown_timeout_ms,
    logger,
    loadFailed: (model) => metrics.loadFailed(model),
  });
  const readiness = new Readiness(registry, {
    readyWithoutModels: config.health.ready_without_models,
    deepCheckIntervalMs: config.health.deep_check_interval_ms,
    maxHeapRatio: config.server.max_heap_ratio,
  });
  return {
    registry,
    dataplane: new Dataplane(registry, readiness, LONGSHORE_VERSION, config.server.repository_api ? repository : undefined),
    metrics,
    predictionLogs,
    repository,
    entryIndexOf: (name) => entryIndex.get(name),
    modelOfError: (error) => files.modelOf(error),
    async unloadAll() {
      await registry.unloadAll();
      await predictionLogs.closeAll();
    },
  };
}
