/**
 * The module runtime: imports a user's TypeScript or JavaScript model class named by `class_path`
 * (`./models/iris.ts#IrisModel`, `some-package#Export`, or a path alone for the default export) and constructs it.
 * With `workers: N` (N > 0) the model it returns runs predict in a pool of worker threads (worker-pool.ts).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolve as resolveEsm } from 'import-meta-resolve';
import type { ModuleModelEntry } from '../config/schema.js';
import { EntryProblem } from '../errors.js';
import type { Model, ModelClass } from '../model/contract.js';
import { exportNames, exportOf } from './module-exports.js';
import { prepareImport } from './typescript-loader.js';


/**
 * Creates the model a module entry (`class_path`) describes. With `workers` > 0 the instance constructed here only
 * supplies metadata and schemas: the returned model runs the class in that many worker threads, each with its own
 * instance, loaded by the returned model's load().
 */
export async function createModuleModel(entry: ModuleModelEntry, dir: string): Promise<Model> {
  const located = locateClass(entry.class_path, dir);
  const modelClass = await importLocatedClass(located);
  const model = constructModel(modelClass, entry.configuration);
  const workers = entry.workers;
  if (workers === 0) return model;
  if (typeof (model as { infer?: unknown }).infer === 'function') {
    throw new EntryProblem('workers', `${modelClass.name} has its own infer(), which does not run in worker threads; remove workers or infer()`);
  }
  // Imported only when used: a config without workers never loads piscina.
  const { createWorkerPoolModel } = await import('./worker-pool.js');
  return createWorkerPoolModel({
    url: located.url,
    exportName: located.exportName,
    configuration: entry.configuration,
    workers,
    memoryLimitMb: entry.memory_limit_mb,
    template: model,
    name: entry.qualified_name ?? String(model.qualified_name),
  });
}

/** Splits `spec#Export` at its last `#`; no `#` means the default export. */
export function splitClassPath(classPath: string): { specifier: string; exportName: string } {
  const at = classPath.lastIndexOf('#');
  if (at <= 0) return { specifier: classPath, exportName: 'default' };
  return { specifier: classPath.slice(0, at), exportName: classPath.slice(at + 1) || 'default' };
}

/** Where a `class_path` points: the module's resolved URL and the export's name. */
interface LocatedClass {
  readonly specifier: string;
  readonly url: string;
  readonly exportName: string;
}

/** Resolves `classPath`'s module from `dir` (relative paths and packages); throws EntryProblem when it cannot. */
function locateClass(classPath: string, dir: string): LocatedClass {
  const { specifier, exportName } = splitClassPath(classPath);
  return { specifier, url: resolveSpecifier(specifier, dir), exportName };
}

/** Imports the class named by `classPath`, resolving relative paths and packages from `dir`. */
export async function importModelClass(classPath: string, dir: string): Promise<ModelClass> {
  return importLocatedClass(locateClass(classPath, dir));
}

async function importLocatedClass(located: LocatedClass): Promise<ModelClass> {
  const exported = await importLocatedExport(located);
  if (typeof (exported.prototype as { predict?: unknown }).predict !== 'function') {
    throw new EntryProblem('class_path', `'${located.exportName}' in '${located.specifier}' is not a model: it has no predict() method`);
  }
  return exported as ModelClass;
}

/**
 * Imports the class a `class_path` names (`./file.ts#Export`, `package#Export`, or a path alone for the default
 * export), resolved from `dir`. Checks only that it is a class; throws EntryProblem('class_path') otherwise.
 */
export async function importClass(classPath: string, dir: string): Promise<new (...args: never[]) => unknown> {
  return importLocatedExport(locateClass(classPath, dir));
}

/** Imports a user's module (a relative path from `dir`, or a package), e.g. a decorator's module of functions. */
export async function importUserModule(specifier: string, dir: string): Promise<Record<string, unknown>> {
  const url = resolveSpecifier(specifier, dir);
  try {
    await prepareImport(url);
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new EntryProblem('class_path', `cannot import '${specifier}': ${(error as Error).message}${importHint(specifier, error)}`);
  }
}

async function importLocatedExport({ specifier, url, exportName }: LocatedClass): Promise<new (...args: never[]) => unknown> {
  let module: Record<string, unknown>;
  try {
    await prepareImport(url);
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new EntryProblem('class_path', `cannot import '${specifier}': ${(error as Error).message}${importHint(specifier, error)}`);
  }
  const exported = exportOf(module, exportName);
  if (exported === undefined) {
    const names = exportNames(module).join(', ') || 'none';
    throw new EntryProblem('class_path', `'${specifier}' has no export '${exportName}'; its exports are: ${names}`);
  }
  if (typeof exported !== 'function' || !('prototype' in exported)) {
    throw new EntryProblem('class_path', `'${exportName}' in '${specifier}' is not a class (it is a ${typeof exported})`);
  }
  return exported as new (...args: never[]) => unknown;
}

/** A hint for the import failures users meet most. */
function importHint(specifier: string, error: unknown): string {
  const message = String(error);
  if (!/\.[cm]?ts$/.test(specifier) && /Unknown file extension "\.[cm]?ts"/.test(message)) {
    return ' (a JavaScript module that imports TypeScript: longshore compiles .ts files named by class_path itself, so point class_path at the .ts file, or compile it to JavaScript)';
  }
  if (/require\(\) ES Module|ERR_REQUIRE_ESM|ERR_REQUIRE_ASYNC_MODULE|Cannot use import statement outside a module|Unexpected token 'export'/.test(message)) {
    return ' (the file uses import/export but is loaded as CommonJS: add "type": "module" to the nearest package.json, or name it .mts/.mjs)';
  }
  return '';
}

/** Constructs the class with a private copy of the entry's configuration. */
export function constructModel(modelClass: ModelClass, configuration: Readonly<Record<string, unknown>>): Model {
  try {
    return new modelClass(structuredClone(configuration) as Record<string, unknown>);
  } catch (error) {
    throw new EntryProblem('configuration', `the constructor of ${modelClass.name} threw: ${(error as Error).message}`);
  }
}

const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** ` (did you mean './model.ts'?)` when the path lacks an extension that would find a file. */
function extensionHint(specifier: string, file: string): string {
  const found = MODULE_EXTENSIONS.find((extension) => existsSync(file + extension));
  return found ? ` (did you mean '${specifier}${found}'? class_path names the file with its extension)` : '';
}

function resolveSpecifier(specifier: string, dir: string): string {
  if (specifier.startsWith('file:')) return specifier;
  if (specifier.startsWith('.') || isAbsolute(specifier)) {
    const file = resolve(dir, specifier);
    if (!existsSync(file)) throw new EntryProblem('class_path', `file not found: ${file}${extensionHint(specifier, file)}`);
    return pathToFileURL(file).href;
  }
  // A package: resolve it with ESM rules from the config's directory, as the user's own code would import it; fall back
  // to longshore's own dependencies.
  for (const parent of [pathToFileURL(join(dir, 'longshore.config.js')).href, import.meta.url]) {
    try {
      return resolveEsm(specifier, parent);
    } catch {
      // try the next parent
    }
  }
  throw new EntryProblem('class_path', `package '${specifier}' not found from ${dir} (is it installed there?)`);
}
