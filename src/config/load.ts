/**
 * Reads `longshore.yaml`: finds the file, parses YAML, validates against the one schema, reports every problem with
 * its file, key path and line, fills defaults and freezes the result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, type ErrorDetail } from '../errors.js';
import { ConfigSchema, ONNX_ONLY_KEYS, type LongshoreConfig, type ModelEntry } from './schema.js';

/** A key path inside the config, e.g. `['models', 0, 'class_path']`. */
export type KeyPath = readonly (string | number)[];

/** A loaded config plus what is needed to point at a line of its file later (e.g. a class_path that fails to import). */
export interface LoadedConfig {
  readonly config: LongshoreConfig;
  /** Absolute path of the file, or a label such as `<command line>` when there is none. */
  readonly file: string;
  /** Directory relative paths in the config resolve against. */
  readonly dir: string;
  /** Formats a problem as `file:line key.path: message`. */
  problem(path: KeyPath, message: string): ErrorDetail;
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

/** Reads, validates and freezes the config at `file`. Throws ConfigError listing every problem. */
export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(text, file, dirname(file));
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validateConfig = ajv.compile<LongshoreConfig>(ConfigSchema);

/** Validates config text. `file` labels messages; `dir` anchors relative paths. */
export function parseConfig(text: string, file: string, dir: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const problem = (path: KeyPath, message: string): ErrorDetail => {
    const line = lineOf(doc, lineCounter, path);
    return { path: formatKeyPath(path), message: `${file}${line === undefined ? '' : `:${line}`} ${formatKeyPath(path) || '(top level)'}: ${message}` };
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
    throw configError(file, [problem([], 'the file must hold a mapping of keys (service_title, models, ...)')]);
  }
  const valid = validateConfig(raw);
  const problems = [...(valid ? [] : describeSchemaErrors(validateConfig.errors ?? [], problem)), ...crossKeyProblems(raw, problem)];
  if (!valid || problems.length > 0) throw configError(file, problems);
  return { config: deepFreeze(raw), file, dir, problem };
}

/**
 * Cross-key rules of every model entry that passed the schema on its own, so one run reports schema problems and
 * cross-key problems together.
 */
function crossKeyProblems(raw: object, problem: LoadedConfig['problem']): ErrorDetail[] {
  const server = [
    ...monitoringProblems((raw as { monitoring?: MonitoringSettings }).monitoring, ['monitoring'], problem),
    ...regexProblems((raw as { metrics?: { excluded_handlers?: unknown } }).metrics?.excluded_handlers, ['metrics', 'excluded_handlers'], problem),
  ];
  const models = (raw as { models?: unknown }).models;
  if (!Array.isArray(models)) return server;
  const failing = new Set((validateConfig.errors ?? []).map((error) => /^\/models\/(\d+)/.exec(error.instancePath)?.[1]).filter(Boolean));
  return [
    ...server,
    ...models.flatMap((entry: unknown, index) =>
      typeof entry === 'object' && entry !== null && !failing.has(String(index))
        ? [...entryProblems(entry as ModelEntry, index, problem), ...monitoringProblems((entry as ModelEntry).monitoring, ['models', index, 'monitoring'], problem)]
        : [],
    ),
  ];
}

type MonitoringSettings = LongshoreConfig['monitoring'];

/** Each pattern of a list of regular expressions must compile. */
function regexProblems(patterns: unknown, at: KeyPath, problem: LoadedConfig['problem']): ErrorDetail[] {
  if (!Array.isArray(patterns)) return [];
  return patterns.flatMap((pattern: unknown, index) => {
    if (typeof pattern !== 'string') return [];
    try {
      new RegExp(pattern);
      return [];
    } catch (error) {
      return [problem([...at, index], `${JSON.stringify(pattern)} is not a valid regular expression: ${(error as Error).message}`)];
    }
  });
}

/** Rules across the keys of a `monitoring` mapping (server-wide or a model's). */
function monitoringProblems(monitoring: MonitoringSettings | undefined, at: KeyPath, problem: LoadedConfig['problem']): ErrorDetail[] {
  if (typeof monitoring !== 'object' || monitoring === null) return [];
  const problems: ErrorDetail[] = [];
  if (monitoring.sample_rate !== undefined && monitoring.sample_every !== undefined) {
    problems.push(problem([...at, 'sample_every'], 'give either sample_rate (a fraction, at random) or sample_every (every Nth prediction), not both'));
  }
  const destination = monitoring.destination;
  if (destination?.type === 'file' && destination.path === undefined) {
    problems.push(problem([...at, 'destination'], "a file destination needs 'path' (the JSONL file to write)"));
  }
  if (destination?.type === 'http' && destination.url === undefined) {
    problems.push(problem([...at, 'destination'], "an http destination needs 'url' (the endpoint that receives the batches)"));
  }
  if (destination?.type === 'http' && destination.url !== undefined && !/^https?:\/\//.test(destination.url)) {
    problems.push(problem([...at, 'destination', 'url'], `must be an http:// or https:// URL, got ${JSON.stringify(destination.url)}`));
  }
  return problems;
}

/** The runtime an entry asks for: explicit, else `onnx` when it names a model_path. */
export function runtimeOf(entry: ModelEntry): 'module' | 'onnx' | 'graph' {
  return entry.runtime ?? (entry.model_path !== undefined ? 'onnx' : entry.graph !== undefined ? 'graph' : 'module');
}

/**
 * The key of an entry that gives its model the name it is served under, for messages about that name (e.g. a
 * duplicate): `qualified_name` when set, else the key the name comes from (`model_path` for an ONNX file, whose name
 * is the file's; `class_path` for a class, whose name is its own).
 */
export function nameKeyOf(entry: ModelEntry): 'qualified_name' | 'model_path' | 'class_path' {
  if (entry.qualified_name !== undefined) return 'qualified_name';
  return runtimeOf(entry) === 'onnx' ? 'model_path' : 'class_path';
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

/** Rules across keys of one model entry that a JSON Schema would state only obscurely. */
function entryProblems(entry: ModelEntry, index: number, problem: LoadedConfig['problem']): ErrorDetail[] {
  const at = (key: string, message: string) => problem(key ? ['models', index, key] : ['models', index], message);
  const runtime = runtimeOf(entry);
  if (runtime === 'graph') return graphEntryProblems(entry, at);
  if (entry.graph !== undefined) return [at('graph', `a ${runtime} model takes no graph; a graph entry has graph and no class_path or model_path`)];
  if (runtime === 'module') {
    const problems: ErrorDetail[] = [];
    if (entry.class_path === undefined) {
      problems.push(at('', "missing required key 'class_path' (or 'model_path' for an ONNX model)"));
    }
    if (entry.model_path !== undefined && entry.class_path !== undefined) {
      problems.push(at('model_path', "give either class_path (a TS/JS model) or model_path (an ONNX file), not both"));
    }
    for (const key of ONNX_ONLY_KEYS) {
      if (entry[key] !== undefined) problems.push(at(key, `'${key}' applies only to ONNX models (model_path / runtime: onnx)`));
    }
    return problems;
  }
  if (entry.model_path === undefined) return [at('', "missing required key 'model_path' for runtime: onnx")];
  if (entry.class_path !== undefined) return [at('class_path', 'an ONNX model (model_path / runtime: onnx) takes no class_path')];
  return [];
}

/** A graph entry: no code or file of its own, a qualified_name, and keys that fit its kind. */
function graphEntryProblems(entry: ModelEntry, at: (key: string, message: string) => ErrorDetail): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const graph = entry.graph;
  if (graph === undefined) return [at('', "missing required key 'graph' for runtime: graph")];
  for (const key of ['class_path', 'model_path', 'workers', ...ONNX_ONLY_KEYS] as const) {
    if (entry[key] !== undefined) problems.push(at(key, `a graph (an entry with graph) takes no ${key}`));
  }
  if (entry.qualified_name === undefined) problems.push(at('', "missing required key 'qualified_name': a graph has no class to take its name from"));
  const kindOnly: Record<string, readonly string[]> = {
    combine: ['ensemble'],
    label_field: ['ensemble'],
    probabilities_field: ['ensemble'],
    labels: ['ensemble'],
    header: ['router'],
  };
  for (const [key, kinds] of Object.entries(kindOnly)) {
    if ((graph as Record<string, unknown>)[key] !== undefined && !kinds.includes(graph.kind)) {
      problems.push(at('graph', `graph.${key} applies only to kind ${kinds.join(' or ')}, not ${graph.kind}`));
    }
  }
  if (graph.kind === 'pipeline' && graph.members.length < 2) problems.push(at('graph', 'a pipeline needs at least two members'));
  return problems;
}

/**
 * Adds models given outside the file (e.g. `--model iris=./iris.onnx`), validated like file entries. `label` names
 * each one's origin in messages; relative paths in them resolve against `dir`.
 */
export function withExtraModels(loaded: LoadedConfig, extra: readonly { label: string; entry: Record<string, unknown> }[], dir: string): LoadedConfig {
  const base = loaded.config.models.length;
  const raw = { ...structuredClone(loaded.config), models: [...structuredClone(loaded.config.models), ...extra.map((e) => structuredClone(e.entry))] };
  const problem = (path: KeyPath, message: string): ErrorDetail => {
    const index = path[0] === 'models' && typeof path[1] === 'number' ? path[1] : -1;
    if (index < base) return loaded.problem(path, message);
    const label = extra[index - base]?.label ?? 'command line';
    return { path: formatKeyPath(path), message: `${label}: ${message}` };
  };
  if (!validateConfig(raw)) throw configError(loaded.file, describeSchemaErrors(validateConfig.errors ?? [], problem));
  const models = raw.models.map((entry, index) => (index < base ? entry : resolveEntryPaths(entry, dir, loaded.dir)));
  const problems = models.flatMap((entry, index) => entryProblems(entry, index, problem));
  if (problems.length > 0) throw configError(loaded.file, problems);
  return { ...loaded, config: deepFreeze({ ...raw, models }), problem };
}

/** Makes an extra entry's model_path absolute, since entries are otherwise resolved against the config's directory. */
function resolveEntryPaths(entry: ModelEntry, from: string, configDir: string): ModelEntry {
  if (entry.model_path === undefined || from === configDir) return entry;
  return { ...entry, model_path: resolve(from, entry.model_path) };
}

/** One ConfigError whose message lists every problem, a line each. */
export function configError(file: string, unsorted: ErrorDetail[]): ConfigError {
  const details = sortByLine(unsorted);
  const lines = details.map((detail) => `  ${detail.message}`).join('\n');
  return new ConfigError(`invalid configuration in ${file}:\n${lines}`, { details });
}

/** One problem per failing key: the branches of a failed `anyOf` (one per allowed literal) fold into that anyOf. */
function describeSchemaErrors(errors: readonly ErrorObject[], problem: LoadedConfig['problem']): ErrorDetail[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  return errors
    .filter((error) => error.keyword === 'anyOf' || !(anyOfPaths.has(error.instancePath) && error.schemaPath.includes('/anyOf/')))
    .map((error) => describeSchemaError(error, problem));
}

/** Orders problems by the line number in their message (`file:LINE key: ...`), keeping ties in order. */
function sortByLine(problems: readonly ErrorDetail[]): ErrorDetail[] {
  const lineOf = (detail: ErrorDetail) => Number(/:(\d+) /.exec(detail.message)?.[1] ?? 0);
  return [...problems].sort((a, b) => lineOf(a) - lineOf(b));
}

function describeSchemaError(error: ErrorObject, problem: LoadedConfig['problem']): ErrorDetail {
  const path = parsePointer(error.instancePath);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return problem([...path, key], `unknown key '${key}'; allowed keys: ${allowed.join(', ')}`);
    }
    case 'required':
      return problem(path, `missing required key '${String(error.params.missingProperty)}'`);
    case 'anyOf': {
      const options = (error.parentSchema as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf ?? [];
      const allowed = options.map((option) => JSON.stringify(option.const)).join(', ');
      return problem(path, `must be one of ${allowed}`);
    }
    default:
      return problem(path, error.message ?? 'is invalid');
  }
}

function parsePointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** `['models', 0, 'class_path']` → `models[0].class_path`. */
export function formatKeyPath(path: KeyPath): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${key}` : key), '');
}

/** 1-based line of the deepest key that exists along `path` (a missing key points at its parent). */
function lineOf(doc: Document, lineCounter: LineCounter, path: KeyPath): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    // A mapping key's own line: its value (e.g. a block mapping) may start on a later line.
    if (depth > 0) {
      const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
      const key = path[depth - 1];
      const pair = isMap(parent) ? parent.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === key) : undefined;
      if (pair && isNode(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
    }
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
