/**
 * Model assembly: every config entry becomes a ServedModel — its runtime's model (runtime-table.ts), its metadata with
 * the entry's overrides, its decorators, its serving settings, and the metrics and prediction log it reports to, which
 * the caller creates and passes in. Collects every problem of every entry and throws them as one ConfigError
 * (`file:line models[i].key: message`). Loads nothing.
 */
import type { Logger } from 'pino';
import { configError, nameKeyOf, type LoadedConfig } from '../config/load.js';
import type { ModelEntry } from '../config/schema.js';
import { createDecorators } from '../decorators/create.js';
import { EntryProblem, type ErrorDetail } from '../errors.js';
import type { MetricsCatalogue } from '../metrics/catalogue.js';
import type { PredictionLogs } from '../monitoring/prediction-logs.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import { WATCH_WORKERS, watchesWorkers } from '../runtimes/worker-protocol.js';
import { resolveMetadata } from './metadata.js';
import { ModelFiles } from './model-files.js';
import { runtimeFor } from './runtime-table.js';
import { ServedModel } from './served-model.js';

export interface AssemblyServices {
  readonly metrics: MetricsCatalogue;
  /** The prediction logs (model monitoring); a model with its log off gets none. */
  readonly predictionLogs: PredictionLogs;
  readonly logger: Logger;
  /** The models served now, by name (the registry's newest ready version): graph members are called through it once it exists. */
  readonly served?: (name: string) => ServedModel | undefined;
}

export interface AssembledModels {
  /** In the config's order, names distinct. */
  readonly models: ServedModel[];
  /** Position of each model's entry in the config's `models` (to point messages at its lines). */
  readonly entryIndex: ReadonlyMap<string, number>;
  /** Which model's code an uncaught error's stack points into. */
  readonly files: ModelFiles;
  /** The entry each model was built from. */
  readonly entries: ReadonlyMap<ServedModel, ModelEntry>;
}

/**
 * Creates every configured model, compiling the schemas it already exposes. Models with code or a file are created all
 * at once; then graphs in file order, each seeing the models above it.
 */
export async function createServedModels(loaded: LoadedConfig, services: AssemblyServices, selected: (index: number) => boolean = () => true): Promise<AssembledModels> {
  const problems: ErrorDetail[] = [];
  const entries = loaded.config.models;
  const reportProblem = (index: number, error: unknown) => {
    const key = error instanceof EntryProblem ? error.key : 'class_path';
    problems.push(loaded.problem(['models', index, ...(typeof key === 'string' ? [key] : key)], (error as Error).message));
  };
  const created: (ServedModel | undefined)[] = new Array(entries.length).fill(undefined);
  const serveEntry = async (index: number, create: () => RuntimeModel | Promise<RuntimeModel>) => {
    try {
      created[index] = await serve(loaded, entries[index] as ModelEntry, await create(), services);
    } catch (error) {
      reportProblem(index, error);
    }
  };
  const contextFor = (index: number) => {
    // Models other than graphs may be members of any graph; a graph may be a member only of graphs below it.
    const usable = () => created.filter((served, at): served is ServedModel => served !== undefined && (!runtimeFor(entries[at] as ModelEntry).composesMembers || at < index));
    return {
      dir: loaded.dir,
      member: (name: string) => services.served?.(name) ?? usable().find((served) => served.name === name),
      memberNames: () => usable().map((served) => served.name),
    };
  };
  await Promise.all(
    entries.map((entry, index) =>
      runtimeFor(entry).composesMembers || !selected(index) ? undefined : serveEntry(index, () => runtimeFor(entry).create(entry, contextFor(index))),
    ),
  );
  for (const [index, entry] of entries.entries()) {
    if (runtimeFor(entry).composesMembers && selected(index)) await serveEntry(index, () => runtimeFor(entry).create(entry, contextFor(index)));
  }
  const models: ServedModel[] = [];
  const entryIndex = new Map<string, number>();
  const versionIndex = new Map<string, number>();
  const files = new ModelFiles();
  const builtFrom = new Map<ServedModel, ModelEntry>();
  created.forEach((served, index) => {
    if (!served) return;
    const key = `${served.name}\u0000${served.version}`;
    const previous = versionIndex.get(key);
    if (previous === undefined) {
      models.push(served);
      builtFrom.set(served, entries[index] as ModelEntry);
      versionIndex.set(key, index);
      if (!entryIndex.has(served.name)) entryIndex.set(served.name, index);
      const entry = entries[index];
      if (entry?.runtime === 'module') files.add(served.name, entry.class_path, loaded.dir);
    } else {
      const nameKey = nameKeyOf(entries[index] as ModelEntry);
      problems.push(
        loaded.problem(
          ['models', index, nameKey],
          `duplicate qualified_name '${served.name}' (also used by models[${previous}], at the same version '${served.version}'); set a distinct qualified_name on this entry, or a distinct version to serve both side by side`,
        ),
      );
    }
  });
  if (problems.length > 0) throw configError(loaded.file, problems);
  return { models, entryIndex, files, entries: builtFrom };
}

/** One entry's ServedModel around its runtime's model. Throws EntryProblem for an unusable name or decorator. */
async function serve(loaded: LoadedConfig, entry: ModelEntry, model: RuntimeModel, { metrics, predictionLogs, logger }: AssemblyServices): Promise<ServedModel> {
  const metadata = resolveMetadata(model, entry);
  const name = metadata.qualified_name;
  const modelLabels = loaded.config.metrics.model_labels;
  const decorators = await createDecorators(
    entry.decorators,
    { model: name, version: metadata.version, configDir: loaded.dir, metrics: metrics.registry, modelLabels, logger: logger.child({ model: name }) },
    loaded.dir,
  );
  if (watchesWorkers(model)) {
    const modelLogger = logger.child({ model: name });
    model[WATCH_WORKERS]((restart) => {
      metrics.workerRestarted(name, restart.reason);
      modelLogger.warn({ reason: restart.reason, detail: restart.detail }, `model '${name}': a worker thread was replaced (${restart.detail}); the new thread loads the model again`);
    });
  }
  const recorder = predictionLogs.forModel(name, entry.monitoring);
  // `served` is read by the readiness gauge at scrape time only, after it is constructed.
  const served: ServedModel = new ServedModel(model, {
    metadata,
    serving: entry.serving,
    observer: metrics.observerFor(name, metadata.version),
    modelObserver: metrics.modelObserverFor(name, metadata.version, () => served.queue?.stuckProblem() === undefined),
    createEndpoint: entry.create_endpoint,
    decorators,
    examples: entry.examples,
    required: entry.required,
    logger,
    ...(recorder ? { recorder } : {}),
  });
  return served;
}
