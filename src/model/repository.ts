/**
 * The model repository at run time (Triton's model repository extension and its explicit model control): which models
 * the config knows, which are served, and changes while serving — load (or reload) a model, unload one, and reload
 * the whole config (SIGHUP, a file watch). A change never leaves a name without an answer it had:
 * - the new models are built beside the old ones, loaded and self-tested, and only then switched in (one registry
 *   step); the old ones drain (every call begun on them finishes) and unload;
 * - a new model that fails to load or self-test is released, the old one keeps serving, and the failure is recorded:
 *   the index shows it as the version's `reason`, the log and longshore_model_load_failures_total say it.
 * Operations run one at a time.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, ModelInUseError, ModelLoadError, ModelNotFoundError, type LongshoreError } from '../errors.js';
import { withExtraModels, type LoadedConfig } from '../config/load.js';
import { entryFiles } from '../config/entry-files.js';
import type { ModelEntry } from '../config/schema.js';
import { createServedModels, type AssemblyServices } from './assembly.js';
import { resolveMetadata } from './metadata.js';
import type { ModelRegistry } from './registry.js';
import { runtimeFor } from './runtime-table.js';
import type { RepositoryIndexEntry } from '../wire.js';
import type { ServedModel } from './served-model.js';

/** One row of `POST /v2/repository/index`. */
export type IndexEntry = RepositoryIndexEntry;

export interface RepositoryOptions {
  readonly registry: ModelRegistry;
  readonly services: AssemblyServices;
  /** The config the served models were built from. */
  readonly loaded: LoadedConfig;
  /** Reads the config (and the model repository folder) again, as at start. */
  readonly reread: () => LoadedConfig;
  /** The entry each served model was built from. */
  readonly entries: ReadonlyMap<ServedModel, ModelEntry>;
  /** How long a retired model's calls may take to finish before it unloads anyway (server.shutdown_timeout_ms). */
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  /** Counts a failed load (longshore_model_load_failures_total). */
  readonly loadFailed: (model: string, version: string) => void;
}

/** What a reload of the whole config changed. */
export interface ReloadReport {
  readonly loaded: string[];
  readonly unloaded: string[];
  readonly unchanged: string[];
  readonly failed: { readonly name: string; readonly reason: string }[];
  /** Config sections other than `models` that changed: they apply at the next start. */
  readonly needsRestart: string[];
}

export class ModelRepository {
  readonly #options: RepositoryOptions;
  #loaded: LoadedConfig;
  /** What each served model was built from: its entry and its files' sizes and times, to see what a reload changes. */
  readonly #builtFrom = new WeakMap<ServedModel, string>();
  /** The last failed load of a name's version, shown in the index until a load of that name succeeds. */
  readonly #failures = new Map<string, Map<string, string>>();
  /** Every name the config serves or a load added, served now or not (the index lists them all). */
  #known: Set<string>;
  #busy: Promise<unknown> = Promise.resolve();

  constructor(options: RepositoryOptions) {
    this.#options = options;
    this.#loaded = options.loaded;
    for (const [model, entry] of options.entries) this.#builtFrom.set(model, signature(entry, options.loaded.dir));
    this.#known = new Set(options.registry.names());
  }

  /** The config as last read (at start, or by the last reload). */
  get config(): LoadedConfig {
    return this.#loaded;
  }

  /** Every version served or configured, with its state (`ready: true`: only the ready ones). */
  index(readyOnly = false): IndexEntry[] {
    const { registry } = this.#options;
    const rows: IndexEntry[] = [];
    const names = new Set([...this.#known, ...registry.names(), ...this.#failures.keys()]);
    for (const name of [...names].sort()) {
      const served = registry.versionsOf(name);
      const failures = this.#failures.get(name) ?? new Map<string, string>();
      for (const model of served) rows.push(indexRow(model, failures.get(model.version)));
      for (const [version, reason] of failures) if (!served.some((model) => model.version === version)) rows.push({ name, version, state: 'UNAVAILABLE', reason });
      if (served.length === 0 && failures.size === 0) rows.push({ name, version: '', state: 'UNAVAILABLE', reason: 'unloaded' });
    }
    return readyOnly ? rows.filter((row) => row.state === 'READY') : rows;
  }

  /**
   * Loads `name` — every version its entries give, from the config read again, or from `override` (a model entry, as in
   * the YAML) — beside what serves it now, then switches to it; versions it no longer has are drained and unloaded.
   * Throws ModelNotFoundError (no such model), ModelLoadError (the entry is wrong, or a version failed to load or
   * self-test: nothing was switched).
   */
  load(name: string, override?: Record<string, unknown>): Promise<IndexEntry[]> {
    return this.#exclusive(async () => {
      const loaded = override === undefined ? this.#reread(name) : this.#withOverride(name, override);
      const indexes = (await this.#namesOf(loaded)).get(name) ?? [];
      if (indexes.length === 0) throw new ModelNotFoundError(`no model '${name}' in the config or the model repository; known models: ${[...this.#known].join(', ') || 'none'}`);
      this.#known.add(name);
      await this.#apply(name, loaded, indexes);
      return this.index().filter((row) => row.name === name);
    });
  }

  /**
   * Takes every version of `name` out of service, drains and unloads them. A model that graphs call is refused
   * (ModelInUseError) unless `dependents` is true, which unloads those graphs first.
   */
  unload(name: string, dependents = false): Promise<IndexEntry[]> {
    return this.#exclusive(async () => {
      const { registry } = this.#options;
      const versions = registry.versionsOf(name);
      if (versions.length === 0) {
        if (this.#known.has(name)) return this.index().filter((row) => row.name === name);
        throw new ModelNotFoundError(`model '${name}' is not served and not in the config; served models: ${registry.names().join(', ') || 'none'}`);
      }
      const graphs = this.#dependentsOf(name);
      if (graphs.length > 0 && !dependents) {
        throw new ModelInUseError(
          `model '${name}' is a member of ${graphs.map((graph) => `'${graph}'`).join(', ')}; unload those first, or pass parameters.unload_dependents: true to unload them with it`,
        );
      }
      for (const graph of graphs) await this.#retireAll(graph, 'unloaded with its member');
      await this.#retireAll(name, 'unloaded');
      this.#failures.delete(name);
      return this.index().filter((row) => row.name === name);
    });
  }

  /**
   * Reads the config again and makes the served models match it: a model whose entry or files changed is loaded again
   * (beside the old one, as load() does), a new one is loaded, one no longer in the config is unloaded. A config that
   * does not read (a ConfigError) changes nothing and is thrown.
   */
  reload(): Promise<ReloadReport> {
    return this.#exclusive(async () => {
      const loaded = this.#options.reread();
      const report: ReloadReport = { loaded: [], unloaded: [], unchanged: [], failed: [], needsRestart: restartOnly(this.#loaded, loaded) };
      const byName = await this.#namesOf(loaded);
      for (const [name, indexes] of byName) {
        if (!this.#changed(name, loaded, indexes)) {
          report.unchanged.push(name);
          continue;
        }
        try {
          await this.#apply(name, loaded, indexes);
          report.loaded.push(name);
        } catch (error) {
          report.failed.push({ name, reason: (error as Error).message });
        }
      }
      for (const name of this.#options.registry.names()) {
        if (byName.has(name)) continue;
        await this.#retireAll(name, 'no longer in the config');
        report.unloaded.push(name);
      }
      this.#loaded = loaded;
      this.#known = new Set(byName.keys());
      return report;
    });
  }

  /** Builds `name`'s versions from `loaded`, loads them, and switches to them when every one is ready. */
  async #apply(name: string, loaded: LoadedConfig, indexes: readonly number[]): Promise<void> {
    const { registry, services, logger } = this.#options;
    let built: Awaited<ReturnType<typeof createServedModels>>;
    try {
      built = await createServedModels(loaded, services, (index) => indexes.includes(index));
    } catch (error) {
      throw this.#failed(name, '', error as Error);
    }
    const models = built.models.filter((model) => model.name === name);
    // Entries that build models of other names (a class whose own name differs) must not unload what serves `name`.
    for (const stray of built.models.filter((model) => model.name !== name)) await stray.unload();
    if (models.length === 0) throw this.#failed(name, '', new Error(`its config entries build no model named '${name}'; set qualified_name: ${name} on them`));
    await Promise.all(models.map((model) => model.load()));
    const broken = models.filter((model) => model.state !== 'ready');
    if (broken.length > 0) {
      await Promise.all(models.map((model) => model.unload()));
      const reasons = broken.map((model) => `version ${model.version}: ${model.error ?? model.state}`).join('; ');
      for (const model of broken) this.#recordFailure(name, model.version, model.error ?? model.state);
      const serving = registry.versionsOf(name).filter((model) => model.state === 'ready');
      const kept = serving.length > 0 ? `; version ${serving.map((model) => model.version).join(', ')} keeps serving` : '';
      logger.error({ model: name, reason: reasons }, `model '${name}' failed to load${kept}`);
      throw new ModelLoadError(`model '${name}' failed to load: ${reasons}${kept}`);
    }
    const old = [...registry.versionsOf(name)];
    for (const model of models) {
      const previous = old.find((served) => served.version === model.version);
      if (previous) registry.replace(previous, model);
      else registry.add(model);
      const entry = built.entries.get(model);
      if (entry) this.#builtFrom.set(model, signature(entry, loaded.dir));
    }
    const retired = old.filter((served) => !models.includes(served));
    for (const model of retired) if (!models.some((fresh) => fresh.version === model.version)) registry.remove(model, 'unloaded');
    this.#failures.delete(name);
    logger.info({ model: name, versions: models.map((model) => model.version), replaced: retired.map((model) => model.version) }, `model '${name}' loaded`);
    await Promise.all(retired.map((model) => model.retire(this.#options.drainTimeoutMs)));
  }

  async #retireAll(name: string, why: string): Promise<void> {
    const { registry, logger } = this.#options;
    const versions = [...registry.versionsOf(name)];
    const hint = `${why}; load it again with POST /v2/repository/models/${name}/load`;
    for (const model of versions) registry.remove(model, hint);
    logger.info({ model: name, versions: versions.map((model) => model.version) }, `model '${name}' ${why}; draining`);
    await Promise.all(versions.map((model) => model.retire(this.#options.drainTimeoutMs)));
  }

  #failed(name: string, version: string, error: Error): LongshoreError {
    this.#recordFailure(name, version, error.message);
    this.#options.logger.error({ model: name, err: error }, `model '${name}' failed to load`);
    const details = error instanceof ConfigError ? error.details : [];
    return new ModelLoadError(`model '${name}' failed to load: ${error.message}`, { details });
  }

  #recordFailure(name: string, version: string, reason: string): void {
    const failures = this.#failures.get(name) ?? new Map<string, string>();
    failures.set(version, reason);
    this.#failures.set(name, failures);
    this.#options.loadFailed(name, version);
  }

  /** Whether `name`'s served versions differ from what `indexes` of `loaded` would build (entries, files, versions). */
  #changed(name: string, loaded: LoadedConfig, indexes: readonly number[]): boolean {
    const served = this.#options.registry.versionsOf(name);
    if (served.length !== indexes.length || served.some((model) => model.state !== 'ready' && model.parked === undefined)) return true;
    const wanted = new Set(indexes.map((index) => signature(loaded.config.models[index] as ModelEntry, loaded.dir)));
    return served.some((model) => !wanted.has(this.#builtFrom.get(model) ?? ''));
  }

  #reread(name: string): LoadedConfig {
    try {
      return this.#options.reread();
    } catch (error) {
      throw this.#failed(name, '', error as Error);
    }
  }

  /** The current config with `name`'s entries replaced by `override` (validated as a YAML entry is). */
  #withOverride(name: string, override: Record<string, unknown>): LoadedConfig {
    const base = this.#loaded;
    const others = { ...base, config: { ...base.config, models: [] } };
    try {
      const entry = { ...override, qualified_name: override.qualified_name ?? name };
      if (entry.qualified_name !== name) throw new ConfigError(`the config's qualified_name '${String(entry.qualified_name)}' is not '${name}', the model the URL names`);
      return withExtraModels(others, [{ label: 'the load request\'s config', entry }], base.dir);
    } catch (error) {
      throw this.#failed(name, '', error as Error);
    }
  }

  /** Every name `loaded` serves, with its entries' positions. */
  async #namesOf(loaded: LoadedConfig): Promise<Map<string, number[]>> {
    const names = new Map<string, number[]>();
    for (const [index, entry] of loaded.config.models.entries()) {
      const name = await entryName(entry, loaded.dir);
      if (name !== undefined) names.set(name, [...(names.get(name) ?? []), index]);
    }
    return names;
  }

  /** The graphs served now that call `name`. */
  #dependentsOf(name: string): string[] {
    return this.#options.registry
      .list()
      .filter((model) => model.name !== name && (model.model as { members?: readonly { name: string }[] }).members?.some((member) => member.name === name))
      .map((model) => model.name);
  }

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(operation, operation);
    this.#busy = run.catch(() => undefined);
    return run;
  }
}

function indexRow(model: ServedModel, failure: string | undefined): IndexEntry {
  const base = { name: model.name, version: model.version };
  switch (model.state) {
    case 'ready':
      return { ...base, state: 'READY', reason: failure === undefined ? '' : `a new load failed, this one keeps serving: ${failure}` };
    case 'loading':
      return { ...base, state: 'LOADING', reason: '' };
    case 'unloading':
      return { ...base, state: 'UNLOADING', reason: '' };
    case 'failed':
      return { ...base, state: 'UNAVAILABLE', reason: model.error ?? 'failed to load' };
    default:
      return { ...base, state: 'UNAVAILABLE', reason: model.parked ?? 'unloaded' };
  }
}

/** The name an entry serves under: its qualified_name, an ONNX file's name, else its class's (the module is imported). */
async function entryName(entry: ModelEntry, dir: string): Promise<string | undefined> {
  if (entry.qualified_name !== undefined) return entry.qualified_name;
  try {
    const model = await runtimeFor(entry).create(entry, { dir, member: () => undefined, memberNames: () => [] });
    return resolveMetadata(model, entry).qualified_name;
  } catch {
    return undefined;
  }
}

/** An entry with the size and time of the files it names, so a changed file counts as a changed entry. */
function signature(entry: ModelEntry, dir: string): string {
  const files = entryFiles(entry).map((file) => {
      try {
        const stats = statSync(resolve(dir, file));
        return `${file}:${stats.size}:${stats.mtimeMs}`;
      } catch {
        return `${file}:missing`;
      }
    });
  return JSON.stringify([entry, files]);
}

/** The top-level config sections, other than `models`, that differ between two configs (they apply at the next start). */
function restartOnly(before: LoadedConfig, after: LoadedConfig): string[] {
  const keys = new Set([...Object.keys(before.config), ...Object.keys(after.config)]);
  keys.delete('models');
  const record = (config: LoadedConfig['config']) => config as unknown as Record<string, unknown>;
  return [...keys].filter((key) => JSON.stringify(record(before.config)[key]) !== JSON.stringify(record(after.config)[key]));
}
