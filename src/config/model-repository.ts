/**
 * A model repository folder in the layout of Triton and KServe's model agent: `<repo>/<name>/<version>/model.onnx`,
 * or `<repo>/<name>/<version>/model.{ts,mts,js,mjs}` for a code model (its default export is the model class), with
 * an optional `<repo>/<name>/longshore.yaml` fragment holding the entry keys every version of that model shares
 * (batching, configuration, decorators, examples, version_policy, ...). Each version found (and kept by the
 * fragment's version_policy) becomes one model entry, validated afterwards like `--model` entries (load.ts).
 * `readModelRepository(dir, name)` re-reads a single model, for a reload.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, type ErrorDetail } from '../errors.js';
import { MODEL_NAME_PATTERN } from './entry-schema.js';
import type { ExtraModel } from './model-dir.js';
import { formatKeyPath, lineOf, type KeyPath } from './problems.js';
import { applyVersionPolicy, readVersionPolicy, VERSION_PATTERN } from './version-policy.js';

/** The fragment of a model folder: entry keys shared by its versions. */
export const FRAGMENT_FILE = 'longshore.yaml';

/** The files a version folder may hold, and the key each one sets. */
export const MODEL_FILES: readonly { readonly file: string; readonly key: 'model_path' | 'class_path' }[] = [
  { file: 'model.onnx', key: 'model_path' },
  { file: 'model.ts', key: 'class_path' },
  { file: 'model.mts', key: 'class_path' },
  { file: 'model.js', key: 'class_path' },
  { file: 'model.mjs', key: 'class_path' },
];

/** The file that makes a version folder a Hugging Face model folder (served by the transformers runtime). */
const HF_CONFIG = 'config.json';

/** Keys the folder sets, which a fragment may not. */
const FOLDER_KEYS = ['qualified_name', 'model_path', 'class_path', 'versions', 'version', 'runtime', 'graph'] as const;

const NAME = new RegExp(MODEL_NAME_PATTERN);
const HIDDEN = /^\./;

export interface ModelRepositoryResult {
  /** One entry per version served, models in name order, versions in folder order. */
  readonly models: ExtraModel[];
  readonly warnings: string[];
}

/**
 * The models of the repository at `dir` (absolute), or only the model `only` when given. Throws a ConfigError
 * listing every problem found (each naming the folder or fragment file, with its line).
 */
export function readModelRepository(dir: string, only?: string): ModelRepositoryResult {
  const problems: ErrorDetail[] = [];
  const at = (where: string, message: string) => problems.push({ path: where, message: `${where}: ${message}` });
  const stats = statOrUndefined(dir);
  if (stats === undefined || !stats.isDirectory()) {
    throw repositoryError(dir, [{ path: dir, message: `${dir}: ${stats === undefined ? 'does not exist' : 'is not a directory'} (model repository: a folder of <name>/<version>/model.onnx)` }]);
  }
  const names = subfolders(dir).filter((name) => only === undefined || name === only);
  if (only !== undefined && names.length === 0) at(join(dir, only), `no such model folder in the model repository ${dir}`);
  const models: ExtraModel[] = [];
  for (const name of names) {
    const folder = join(dir, name);
    if (!NAME.test(name)) {
      at(folder, `'${name}' is not a usable model name: use letters, digits, '_', '.' and '-', starting with a letter or digit`);
      continue;
    }
    models.push(...readModelFolder(folder, name, problems));
  }
  if (problems.length > 0) throw repositoryError(dir, problems);
  const warnings = only === undefined && names.length === 0 ? [`the model repository ${dir} holds no model folder (<name>/<version>/model.onnx)`] : [];
  return { models, warnings };
}

/** The entries of one model folder's versions; problems are added to `problems`. */
function readModelFolder(folder: string, name: string, problems: ErrorDetail[]): ExtraModel[] {
  const fragment = readFragment(join(folder, FRAGMENT_FILE), problems);
  const versions = subfolders(folder);
  if (versions.length === 0) {
    problems.push({ path: folder, message: `${folder}: has no version folder: put the model in ${join(folder, '1', 'model.onnx')} (or model.ts)` });
    return [];
  }
  const usable = versions.filter((version) => {
    if (VERSION_PATTERN.test(version)) return true;
    problems.push({ path: join(folder, version), message: `${join(folder, version)}: '${version}' is not a usable version: use letters, digits, '_', '.' and '-' (Triton: 1, 2, ...)` });
    return false;
  });
  if (fragment === undefined || usable.length < versions.length) return [];
  const applied = applyVersionPolicy(fragment.policy, usable);
  if ('problem' in applied) {
    problems.push({ path: fragment.file, message: fragment.describe(['version_policy', 'specific'], applied.problem) });
    return [];
  }
  const models: ExtraModel[] = [];
  for (const version of usable.filter((candidate) => applied.kept.has(candidate))) {
    const where = join(folder, version);
    const found = MODEL_FILES.filter(({ file }) => statOrUndefined(join(where, file))?.isFile() === true);
    if (found.length === 0 && statOrUndefined(join(where, HF_CONFIG))?.isFile() === true) {
      // A Hugging Face model folder (config.json, tokenizer.json, onnx/model.onnx): the version folder is the model.
      const entry = { ...structuredClone(fragment.keys), qualified_name: name, version, model_path: where };
      models.push({ label: `model repository ${where}`, entry, describe: describeIn(fragment, where) });
      continue;
    }
    if (found.length !== 1) {
      const expected = `expected model.onnx (an ONNX model), one of ${MODEL_FILES.filter(({ key }) => key === 'class_path').map(({ file }) => file).join(', ')} (a code model whose default export is the model class) or ${HF_CONFIG} (a Hugging Face model folder)`;
      const what = found.length === 0 ? `holds no model file: ${expected}` : `holds several model files (${found.map(({ file }) => file).join(', ')}): keep one`;
      problems.push({ path: where, message: `${where}: ${what}` });
      continue;
    }
    const [{ file, key }] = found as [(typeof MODEL_FILES)[number]];
    const entry = { ...structuredClone(fragment.keys), qualified_name: name, version, [key]: join(where, file) };
    models.push({ label: `model repository ${where}`, entry, describe: describeIn(fragment, where) });
  }
  return models;
}

/** Messages about a version's entry: at the fragment's line for a key it sets, else at the version folder. */
function describeIn(fragment: Fragment, where: string): (path: KeyPath, message: string) => string {
  return (path, message) =>
    typeof path[0] === 'string' && Object.hasOwn(fragment.keys, path[0]) ? fragment.describe(path, message) : `${where}${path.length === 0 ? '' : ` ${formatKeyPath(path)}`}: ${message}`;
}

interface Fragment {
  readonly file: string;
  /** Its entry keys, version_policy taken out. */
  readonly keys: Record<string, unknown>;
  readonly policy: Extract<ReturnType<typeof readVersionPolicy>, { policy: unknown }>['policy'];
  /** `file:line key.path: message`. */
  describe(path: KeyPath, message: string): string;
}

/** The fragment of a model folder (none: no keys); undefined when it has a problem (added to `problems`). */
function readFragment(file: string, problems: ErrorDetail[]): Fragment | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, keys: {}, policy: { kind: 'all' }, describe: (path, message) => `${file} ${formatKeyPath(path)}: ${message}` };
    problems.push({ path: file, message: `${file}: cannot read: ${(error as Error).message}` });
    return undefined;
  }
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false });
  const describe = (path: KeyPath, message: string) => {
    const line = lineOf(doc, lineCounter, path);
    return `${file}${line === undefined ? '' : `:${line}`} ${formatKeyPath(path) || '(top level)'}: ${message}`;
  };
  const count = problems.length;
  for (const error of doc.errors) {
    problems.push({ path: file, message: `${file}:${lineCounter.linePos(error.pos[0]).line}: YAML syntax error: ${error.message.split('\n')[0]}` });
  }
  if (doc.errors.length > 0) return undefined;
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push({ path: file, message: describe([], 'must hold a mapping of model entry keys (batching, configuration, version_policy, ...)') });
    return undefined;
  }
  const { version_policy: rawPolicy, ...keys } = raw as Record<string, unknown>;
  for (const key of FOLDER_KEYS) {
    if (keys[key] !== undefined) problems.push({ path: file, message: describe([key], `is set by the model repository's folders (<name>/<version>/model.onnx), not by ${FRAGMENT_FILE}`) });
  }
  const policy = readVersionPolicy(rawPolicy);
  if ('problem' in policy) problems.push({ path: file, message: describe(['version_policy', ...policy.problem.at], policy.problem.message) });
  if (problems.length > count || !('policy' in policy)) return undefined;
  return { file, keys, policy: policy.policy, describe };
}

/** Visible subfolders of `dir` (symbolic links followed, as Kubernetes volumes use them), in name order. */
function subfolders(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !HIDDEN.test(name) && statOrUndefined(join(dir, name))?.isDirectory() === true)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function repositoryError(dir: string, details: ErrorDetail[]): ConfigError {
  return new ConfigError(`invalid model repository ${dir}:\n${details.map((detail) => `  ${detail.message}`).join('\n')}`, { details });
}

/**
 * Problems of names served both by the file's `models:` and by the repository: an entry's qualified_name, or an ONNX
 * entry's file name when it has none (a class's own name is known only once imported; the assembly's duplicate check
 * covers it then).
 */
export function repositoryClashes(
  entries: readonly { readonly runtime: string; readonly qualified_name?: string | undefined; readonly model_path?: string }[],
  repository: readonly ExtraModel[],
  repositoryDir: string,
  problem: (path: KeyPath, message: string) => ErrorDetail,
): ErrorDetail[] {
  const inRepository = new Set(repository.map((model) => model.entry.qualified_name));
  const reported = new Set<string>();
  return entries.flatMap((entry, index) => {
    const named = entry.qualified_name !== undefined;
    const name = entry.qualified_name ?? (entry.runtime === 'onnx' ? entry.model_path?.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '') : undefined);
    if (name === undefined || !inRepository.has(name) || reported.has(name)) return [];
    reported.add(name);
    const key = named ? 'qualified_name' : 'model_path';
    return [problem(['models', index, key], `model '${name}' is also in the model repository (${join(repositoryDir, name)}): serve it from one place`)];
  });
}
