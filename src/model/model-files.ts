/**
 * Which model's code an error came from: an error thrown outside any call on the main thread (a model's timer, a stray
 * promise) is logged and counted with the model whose file its stack points into.
 */
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitClassPath } from '../runtimes/module.js';

/**
 * Where each code model's class lives, to name the model an uncaught error on the main thread came from: the first
 * frame of its stack in a model's file, else in the directory of exactly one model's file (a helper module next to
 * it), else in a model package (`node_modules/<package>/`).
 */
export class ModelFiles {
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
