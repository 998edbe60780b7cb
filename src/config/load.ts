/**
 * Reads `longshore.yaml`: finds the file, parses YAML, lays the LONGSHORE_* environment overlay over it, tells each
 * model entry's runtime from its keys, validates against the one schema (each entry against its runtime's), reports
 * every problem with its file, key path and line (or variable), then resolves each entry's serving and monitoring
 * settings and deep-freezes the result.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, type ErrorDetail } from '../errors.js';
import { resolveAuth } from './auth-schema.js';
import { entryProblems, sectionProblems } from './cross-key-rules.js';
import { TRANSFORMERS_KEYS, type ValidatedEntry } from './entry-schema.js';
import { applyEnvOverlay, readEnvOverlay, type EnvSetting, type Environment } from './env-overlay.js';
import type { ExtraModel } from './model-dir.js';
import { readModelRepository, repositoryClashes } from './model-repository.js';
import { expandModelVersions } from './model-versions.js';
import { resolveMonitoring, type MonitoringConfig } from './monitoring-defaults.js';
import { configError, deepFreeze, describeSchemaErrors, formatKeyPath, lineOf, type KeyPath, type ProblemAt } from './problems.js';
import { ConfigSchema, type LongshoreConfig, type ModelEntry, type ValidatedConfig } from './schema.js';
import { resolveServing } from './serving.js';
import { configValidators } from './validators.js';

export { configError, formatKeyPath, type KeyPath } from './problems.js';
export type { Environment } from './env-overlay.js';

/** A loaded config plus what is needed to point at a line of its file later (e.g. a class_path that fails to import). */
export interface LoadedConfig {
  /** Deep-frozen: every default filled, each model entry resolved (runtime, serving, monitoring). */
  readonly config: LongshoreConfig;
  /** Absolute path of the file, or a label such as `<command line>` when there is none. */
  readonly file: string;
  /** Directory relative paths in the config resolve against. */
  readonly dir: string;
  /** The model repository folder whose models were added (absolute), when there is one. */
  readonly modelRepository?: string;
  /** Formats a problem as `file:line key.path: message` (`environment LONGSHORE_... key.path: message` for a key a variable set). */
  problem(path: KeyPath, message: string): ErrorDetail;
}

export interface LoadOptions {
  /**
   * The environment whose LONGSHORE_<SECTION>__<KEY> variables are laid over the file (env-overlay.ts). The CLI
   * passes process.env; without it nothing is overlaid.
   */
  readonly env?: Environment;
  /**
   * A model repository folder (absolute) served instead of the file's `model_repository` key (`--model-repository`).
   */
  readonly modelRepository?: string;
  /** Told what is worth saying but stops nothing (e.g. an empty model repository). */
  readonly onWarning?: (message: string) => void;
}

/** Files looked for in the working directory, in order, when no path is given. */
export const DEFAULT_CONFIG_FILES = ['longshore.yaml', 'longshore.yml', 'rest_config.yaml'] as const;

/** Picks the config file: explicit path, then LONGSHORE_CONFIG, then REST_CONFIG, then the default names in `cwd`. */
export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const named = explicit || env.LONGSHORE_CONFIG || env.REST_CONFIG;
  if (named !== undefined && named !== '') {
    const file = resolve(cwd, named);
    if (!existsSync(file)) throw new ConfigError(`config file not found: ${file}`, { details: [{ path: file, message: 'file not found' }] });
    return file;
  }
  for (const name of DEFAULT_CONFIG_FILES) {
    const file = resolve(cwd, name);
    if (existsSync(file)) return file;
  }
  throw new ConfigError(
    `no config file: pass --config FILE, set LONGSHORE_CONFIG, or create one of ${DEFAULT_CONFIG_FILES.join(', ')} in ${cwd}`,
  );
}

/** Reads, validates, resolves and freezes the config at `file`. Throws ConfigError listing every problem. */
export function loadConfigFile(file: string, options: LoadOptions = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(text, file, dirname(file), options);
}

/** Validates config text. `file` labels messages; `dir` anchors relative paths. */
export function parseConfig(text: string, file: string, dir: string, options: LoadOptions = {}): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const overlay = readEnvOverlay(options.env ?? {}, ConfigSchema);
  const fileProblem = (path: KeyPath, message: string): ErrorDetail => {
    const key = formatKeyPath(path) || '(top level)';
    const variable = variableOf(path, overlay.settings, doc);
    if (variable !== undefined) return { path: formatKeyPath(path), message: `environment ${variable} ${key}: ${message}` };
    const line = lineOf(doc, lineCounter, path);
    return { path: formatKeyPath(path), message: `${file}${line === undefined ? '' : `:${line}`} ${key}: ${message}` };
  };

  if (doc.errors.length > 0) {
    const details = doc.errors.map((error) => {
      const line = lineCounter.linePos(error.pos[0]).line;
      return { path: '', message: `${file}${line === undefined ? '' : `:${line}`}: YAML syntax error: ${error.message.split('\n')[0]}` };
    });
    throw configError(file, details);
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw configError(file, [fileProblem([], 'the file must hold a mapping of keys (service_title, models, ...)')]);
  }
  applyEnvOverlay(raw as Record<string, unknown>, overlay.settings);
  const envProblems = overlay.problems.map(({ variable, message }) => ({ path: variable, message: `environment ${variable}: ${message}` }));
  // `versions:` become one entry per version (model-versions.ts); a problem in one points back at the file's key.
  const expansion = expandModelVersions((raw as { models?: unknown }).models, fileProblem);
  if ((raw as { models?: unknown }).models !== undefined) (raw as { models?: unknown }).models = expansion.models;
  const problem = (path: KeyPath, message: string): ErrorDetail => fileProblem(expansion.originalPath(path), message);
  setRuntimes((raw as { models?: unknown }).models, dir);
  const validateConfig = configValidators().config;
  const valid = validateConfig(raw);
  const errors = valid ? [] : (validateConfig.errors ?? []);
  const problems = [
    ...envProblems,
    ...expansion.problems,
    ...describeSchemaErrors(errors, problem),
    ...sectionProblems(raw as { monitoring?: MonitoringConfig }, problem),
    ...passedEntryProblems((raw as { models?: unknown }).models, errors, 0, problem),
  ];
  // Keys are read only from a valid section; `env:` names a variable of the process (or of options.env when given).
  const auth = valid && raw.auth !== undefined ? resolveAuth(raw.auth, options.env ?? process.env, dir, problem) : undefined;
  problems.push(...(auth?.problems ?? []));
  if (!valid || problems.length > 0) throw configError(file, problems);
  const { auth: _section, ...rest } = raw;
  const config: LongshoreConfig = { ...rest, ...(auth?.auth === undefined ? {} : { auth: auth.auth }), models: raw.models.map((entry) => effectiveEntry(entry, raw)) };
  const loaded: LoadedConfig = { config: deepFreeze(config), file, dir, problem };
  const repository = options.modelRepository ?? (config.model_repository === undefined ? undefined : resolve(dir, config.model_repository));
  return repository === undefined ? loaded : withModelRepository(loaded, repository, options.onWarning);
}

/** Adds the models of a model repository folder (model-repository.ts); a name also in `models:` is a problem. */
function withModelRepository(loaded: LoadedConfig, repository: string, onWarning: LoadOptions['onWarning']): LoadedConfig {
  const found = readModelRepository(repository);
  for (const warning of found.warnings) onWarning?.(warning);
  const clashes = repositoryClashes(loaded.config.models, found.models, repository, loaded.problem);
  if (clashes.length > 0) throw configError(loaded.file, clashes);
  return { ...withExtraModels(loaded, found.models, loaded.dir), modelRepository: repository };
}

/**
 * The variable that set the key at `path` or a mapping holding it; for a key the file does not have, the variables
 * that set keys below it. Undefined when the key is the file's.
 */
function variableOf(path: KeyPath, settings: readonly EnvSetting[], doc: Document): string | undefined {
  const within = (inner: readonly (string | number)[], outer: KeyPath) => outer.every((key, index) => inner[index] === key);
  const setting = settings.filter((candidate) => within(path, candidate.path)).at(-1);
  if (setting !== undefined) return setting.variable;
  if (path.length === 0 || doc.hasIn(path)) return undefined;
  const below = settings.filter((candidate) => within(candidate.path, path)).map((candidate) => candidate.variable);
  return below.length > 0 ? below.join(', ') : undefined;
}

/**
 * The runtime of an entry, told from its keys (the one place that does): `runtime:` when given, else `transformers`
 * with a transformers key (task, pooling, ...) or a model_path that is a folder, `onnx` with another model_path, `graph`
 * with a graph, else `module` (which then needs class_path).
 */
function runtimeOfKeys(entry: Readonly<Record<string, unknown>>, dir: string): unknown {
  if (entry.runtime !== undefined) return entry.runtime;
  if (TRANSFORMERS_KEYS.some((key) => entry[key] !== undefined)) return 'transformers';
  if (typeof entry.model_path === 'string') {
    // A folder is a Hugging Face model; so is a path that names no file and no .onnx (a hub id, reported as such).
    const path = resolve(dir, entry.model_path);
    return isFolder(path) || (!existsSync(path) && !/\.onnx$/i.test(entry.model_path)) ? 'transformers' : 'onnx';
  }
  return entry.graph !== undefined ? 'graph' : 'module';
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Writes each entry's runtime into it, so the schema checks it against that runtime's keys. */
function setRuntimes(models: unknown, dir: string): void {
  if (!Array.isArray(models)) return;
  for (const entry of models as unknown[]) {
    if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      const keys = entry as Record<string, unknown>;
      keys.runtime = runtimeOfKeys(keys, dir);
    }
  }
}

/** Cross-key problems of the entries that passed the schema (so one run reports both kinds). */
function passedEntryProblems(models: unknown, errors: readonly ErrorObject[], offset: number, problem: ProblemAt): ErrorDetail[] {
  if (!Array.isArray(models)) return [];
  const failing = new Set(errors.map((error) => /^\/models\/(\d+)/.exec(error.instancePath)?.[1]).filter(Boolean));
  return (models as ValidatedEntry[]).flatMap((entry, index) =>
    typeof entry === 'object' && entry !== null && !failing.has(String(index)) ? entryProblems(entry, index + offset, problem) : [],
  );
}

/** A validated entry with its serving and monitoring settings resolved once (what the rest of longshore reads). */
function effectiveEntry(entry: ValidatedEntry, config: Pick<ValidatedConfig, 'defaults' | 'monitoring'>): ModelEntry {
  return { ...entry, serving: resolveServing(entry, config.defaults), monitoring: resolveMonitoring(config.monitoring, entry.monitoring) };
}

/**
 * The key of an entry that gives its model the name it is served under, for messages about that name (e.g. a
 * duplicate): `qualified_name` when set, else the key the name comes from (`model_path` for an ONNX file, whose name
 * is the file's; `class_path` for a class, whose name is its own).
 */
export function nameKeyOf(entry: ModelEntry): 'qualified_name' | 'model_path' | 'class_path' {
  if (entry.qualified_name !== undefined) return 'qualified_name';
  return entry.runtime === 'onnx' || entry.runtime === 'transformers' ? 'model_path' : 'class_path';
}

/**
 * A config that serves no model, as a ConfigError (exit 2), unless `health.ready_without_models` says that is meant: a
 * server with nothing to serve never becomes ready (Triton, too, refuses to start on an empty model repository unless
 * told otherwise). Undefined when the config serves a model or allows none.
 */
export function noModelsError(loaded: LoadedConfig): ConfigError | undefined {
  if (loaded.config.models.length > 0 || loaded.config.health.ready_without_models) return undefined;
  const message =
    'no models configured, so the server would never be ready: add an entry under models (class_path: ./models/my-model.ts#MyModel ' +
    'for a TypeScript model, model_path: ./model.onnx for an ONNX file), or pass --model file.onnx; set health.ready_without_models: ' +
    'true to serve no model on purpose';
  return configError(loaded.file, [loaded.problem(['models'], message)]);
}

/**
 * Adds models given outside the file (e.g. `--model iris=./iris.onnx`), validated like file entries. `label` names
 * each one's origin in messages; relative paths in them resolve against `dir`.
 */
export function withExtraModels(loaded: LoadedConfig, extra: readonly ExtraModel[], dir: string): LoadedConfig {
  const base = loaded.config.models.length;
  const problem = (path: KeyPath, message: string): ErrorDetail => {
    const index = path[0] === 'models' && typeof path[1] === 'number' ? path[1] : -1;
    if (index < base) return loaded.problem(path, message);
    const model = extra[index - base];
    if (model?.describe !== undefined) return { path: formatKeyPath(path), message: model.describe(path.slice(2), message) };
    return { path: formatKeyPath(path), message: `${model?.label ?? 'command line'}: ${message}` };
  };
  const shifted: ProblemAt = (path, message) => problem(path[0] === 'models' && typeof path[1] === 'number' ? ['models', path[1] + base, ...path.slice(2)] : path, message);
  const raw = { models: extra.map((model) => structuredClone(model.entry)) };
  setRuntimes(raw.models, dir);
  const validateModels = configValidators().models;
  const valid = validateModels(raw);
  const errors = valid ? [] : (validateModels.errors ?? []);
  const problems = [...describeSchemaErrors(errors, shifted), ...passedEntryProblems(raw.models, errors, base, problem)];
  if (!valid || problems.length > 0) throw configError(loaded.file, problems);
  const added = raw.models.map((entry) => effectiveEntry(resolveEntryPaths(entry, dir, loaded.dir), loaded.config));
  return { ...loaded, config: deepFreeze({ ...loaded.config, models: [...loaded.config.models, ...added] }), problem };
}

/** Makes an extra entry's model_path absolute, since entries are otherwise resolved against the config's directory. */
function resolveEntryPaths(entry: ValidatedEntry, from: string, configDir: string): ValidatedEntry {
  if ((entry.runtime !== 'onnx' && entry.runtime !== 'transformers') || from === configDir) return entry;
  return { ...entry, model_path: resolve(from, entry.model_path) };
}
