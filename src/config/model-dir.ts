/**
 * `--model-dir <dir>`: serve the ONNX file(s) found in a directory, as KServe's storage initializer lays a model out
 * under /mnt/models (a directory holding `model.onnx`, a Triton-style `name/1/model.onnx`, or — for a `pvc://` URI
 * naming a file — the file itself mounted at that path).
 */
import { readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

/** One model entry to add to the config, labelled with where it came from (as `--model` entries are). */
export interface ExtraModel {
  readonly label: string;
  readonly entry: Record<string, unknown>;
  /**
   * How a problem with a key of `entry` (`path` within the entry, `[]` for the entry itself) is worded, where its origin
   * can say more than `label` (the file and line of a model repository's fragment). Default: `label: message`.
   */
  readonly describe?: (path: readonly (string | number)[], message: string) => string;
}

export interface ModelDirResult {
  readonly models: ExtraModel[];
  /** Things worth telling the user that do not stop the server (e.g. --model-name unused with several files). */
  readonly warnings: string[];
}

/** Directories not searched: hidden ones (`.git`, Kubernetes' `..data` links) and KServe's own bookkeeping. */
const SKIPPED_DIR = /^\./;

/**
 * The models of `--model-dir dir` (resolved against `cwd`):
 * - `dir` is a file: that file, named `name` or its file name without `.onnx`;
 * - otherwise every `*.onnx` file directly in `dir`, or, when there is none, every `*.onnx` file below it;
 * - with exactly one file, `name` (e.g. KServe's `{{.Name}}`) names it; with several, each is named after its file and
 *   `name` is not used (a warning says so).
 * A missing path, or a directory with no `.onnx` file, is a ConfigError (exit 2) naming the path.
 */
export function modelDirEntries(dir: string, name: string | undefined, cwd: string): ModelDirResult {
  const root = resolve(cwd, dir);
  const label = (file: string) => `--model-dir ${dir} (${file})`;
  const stats = statOrUndefined(root);
  if (stats === undefined) throw modelDirError(dir, root, 'does not exist');
  if (stats.isFile()) {
    return { models: [{ label: label(root), entry: { qualified_name: name ?? stem(root), model_path: root } }], warnings: [] };
  }
  if (!stats.isDirectory()) throw modelDirError(dir, root, 'is neither a directory nor a file: name the directory holding the .onnx file(s), or the .onnx file itself');

  const files = onnxFilesIn(root);
  if (files.length === 0) throw modelDirError(dir, root, 'holds no .onnx file (searched it and its subdirectories)');
  if (files.length === 1) {
    const [file] = files as [string];
    return { models: [{ label: label(file), entry: { qualified_name: name ?? stem(file), model_path: file } }], warnings: [] };
  }

  const byName = new Map<string, string[]>();
  for (const file of files) byName.set(stem(file), [...(byName.get(stem(file)) ?? []), file]);
  const clashes = [...byName].filter(([, paths]) => paths.length > 1);
  if (clashes.length > 0) {
    const list = clashes.map(([model, paths]) => `'${model}' (${paths.map((path) => relative(root, path)).join(', ')})`).join('; ');
    throw modelDirError(dir, root, `holds several .onnx files with the same name: ${list}; rename them or serve them with --model name=file.onnx`);
  }
  const warnings =
    name === undefined
      ? []
      : [`--model-name ${name} is not used: --model-dir ${dir} holds ${files.length} .onnx files, each served under its file name`];
  return { models: files.map((file) => ({ label: label(file), entry: { qualified_name: stem(file), model_path: file } })), warnings };
}

/** The `--model-dir` and `--model-name` flags, as commander parses them. */
export interface ModelDirFlags {
  readonly modelDir?: string;
  readonly modelName?: string;
}

/**
 * The models of the `--model-dir` / `--model-name` flags of a command's options, or undefined when --model-dir is not
 * given. --model-name alone is a mistake (exit 2): it names only a model found by --model-dir.
 */
export function modelDirFromFlags({ modelDir, modelName: name }: ModelDirFlags, cwd: string): ModelDirResult | undefined {
  if (modelDir === undefined) {
    if (name === undefined) return undefined;
    throw new ConfigError(`--model-name ${name} needs --model-dir: it names the model found there (with --model, write --model ${name}=file.onnx)`);
  }
  return modelDirEntries(modelDir, name, cwd);
}

/** `*.onnx` files directly in `root`, else those below it (sorted, hidden directories skipped). */
function onnxFilesIn(root: string): string[] {
  const top = listOnnx(root, false);
  return top.length > 0 ? top : listOnnx(root, true);
}

function listOnnx(dir: string, recursive: boolean): string[] {
  const found: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    // Follow symbolic links (KServe and Kubernetes volumes use them) by asking stat, not the dirent.
    const stats = entry.isSymbolicLink() ? statOrUndefined(path) : entry;
    if (stats === undefined) continue;
    if (stats.isFile() && /\.onnx$/i.test(entry.name)) found.push(path);
    else if (recursive && stats.isDirectory() && !SKIPPED_DIR.test(entry.name)) found.push(...listOnnx(path, true));
  }
  return found;
}

function stem(file: string): string {
  return basename(file).replace(/\.onnx$/i, '');
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function modelDirError(dir: string, root: string, problem: string): ConfigError {
  const where = dir === root ? root : `${dir} (${root})`;
  return new ConfigError(`--model-dir ${where} ${problem}`, { details: [{ path: root, message: problem }] });
}
