/**
 * Config problems as `where key.path: message` lines: `where` is `file:line` for a key of the file, or
 * `environment LONGSHORE_...` for a key an environment variable set. Schema errors (Ajv) become one such problem per
 * failing key, in words that name the runtime of a model entry when a key does not fit it.
 */
import type { ErrorObject } from 'ajv';
import { isMap, isNode, isScalar, type Document, type LineCounter } from 'yaml';
import { ConfigError, type ErrorDetail } from '../errors.js';
import { RUNTIMES, runtimesWithKey, type Runtime } from './entry-schema.js';

/** A key path inside the config, e.g. `['models', 0, 'class_path']`. */
export type KeyPath = readonly (string | number)[];

export type ProblemAt = (path: KeyPath, message: string) => ErrorDetail;

/** `['models', 0, 'class_path']` → `models[0].class_path`. */
export function formatKeyPath(path: KeyPath): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${key}` : key), '');
}

/**
 * One ConfigError whose message lists every problem, a line each, once (a key shared by the versions of an entry is
 * checked in each of them).
 */
export function configError(file: string, unsorted: ErrorDetail[]): ConfigError {
  const details = sortByLine(unsorted.filter((detail, index) => unsorted.findIndex((other) => other.message === detail.message) === index));
  const lines = details.map((detail) => `  ${detail.message}`).join('\n');
  return new ConfigError(`invalid configuration in ${file}:\n${lines}`, { details });
}

/** Orders problems by the line number in their message (`file:LINE key: ...`), keeping ties in order. */
function sortByLine(problems: readonly ErrorDetail[]): ErrorDetail[] {
  const lineOf = (detail: ErrorDetail) => Number(/:(\d+) /.exec(detail.message)?.[1] ?? 0);
  return [...problems].sort((a, b) => lineOf(a) - lineOf(b));
}

/** One problem per failing key: the branches of a failed `anyOf` (one per allowed literal) fold into that anyOf. */
export function describeSchemaErrors(errors: readonly ErrorObject[], problem: ProblemAt): ErrorDetail[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  return errors
    .filter((error) => error.keyword === 'anyOf' || !(anyOfPaths.has(error.instancePath) && error.schemaPath.includes('/anyOf/')))
    .map((error) => describeSchemaError(error, problem));
}

function describeSchemaError(error: ErrorObject, problem: ProblemAt): ErrorDetail {
  const path = parsePointer(error.instancePath);
  const runtime = entryRuntimeOf(error.parentSchema);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const others = runtime === undefined ? [] : runtimesWithKey(key);
      if (runtime !== undefined && others.length > 0) return problem([...path, key], notForRuntime(runtime, key, others));
      return problem([...path, key], `unknown key '${key}'; allowed keys: ${allowed.join(', ')}`);
    }
    case 'required': {
      const key = String(error.params.missingProperty);
      return problem(path, `missing required key '${key}'${runtime === undefined ? '' : (REQUIRED_HINTS[runtime][key] ?? '')}`);
    }
    case 'anyOf': {
      const options = (error.parentSchema as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf ?? [];
      const allowed = options.map((option) => JSON.stringify(option.const)).join(', ');
      return problem(path, `must be one of ${allowed}`);
    }
    case 'discriminator':
      // The only discriminated union is a model entry's runtime: an unknown (or non-string) `runtime:`.
      return problem([...path, 'runtime'], `must be one of ${RUNTIMES.map((name) => JSON.stringify(name)).join(', ')}`);
    default:
      return problem(path, error.message ?? 'is invalid');
  }
}

/** The runtime whose entry schema `schema` is, when it is one (its `runtime` property is a constant). */
function entryRuntimeOf(schema: unknown): Runtime | undefined {
  const value = (schema as { properties?: { runtime?: { const?: unknown } } } | undefined)?.properties?.runtime?.const;
  return RUNTIMES.find((runtime) => runtime === value);
}

/** A key the entry's runtime does not take but `others` do: say which runtime the entry is and what takes the key. */
function notForRuntime(runtime: Runtime, key: string, others: readonly Runtime[]): string {
  if (runtime === 'module' && key === 'model_path') return 'give either class_path (a TS/JS model) or model_path (an ONNX file), not both';
  if (runtime === 'module' && others.includes('onnx') && others.every((other) => other === 'onnx' || other === 'transformers')) return `'${key}' applies only to ONNX models (model_path / runtime: onnx)`;
  const hint = key === 'graph' ? '; a graph entry has graph and no class_path or model_path' : '';
  return `${TAKES_NO[runtime]} takes no ${key}${hint}`;
}

const TAKES_NO: Readonly<Record<Runtime, string>> = {
  module: 'a module model (class_path / runtime: module)',
  onnx: 'an ONNX model (model_path / runtime: onnx)',
  transformers: 'a Hugging Face model (model_path to a folder / runtime: transformers)',
  graph: 'a graph (an entry with graph)',
};

const REQUIRED_HINTS: Readonly<Record<Runtime, Readonly<Record<string, string>>>> = {
  module: { class_path: " (or 'model_path' for an ONNX model)" },
  onnx: { model_path: ' for runtime: onnx' },
  transformers: { model_path: ': the Hugging Face model folder' },
  graph: { graph: ' for runtime: graph', qualified_name: ': a graph has no class to take its name from' },
};

function parsePointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** 1-based line of the deepest key that exists along `path` (a missing key points at its parent). */
export function lineOf(doc: Document, lineCounter: LineCounter, path: KeyPath): number | undefined {
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

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
