/**
 * The module of functions `longshore:transform` and `longshore:checks` name in `configuration.module`. Imported in the
 * decorator's load(), so a problem fails the model's load with a message that names the decorator and the key
 * (`decorator 'longshore:transform': configuration.input: …`, the form create.ts uses for config errors).
 */
import { importUserModule } from '../../runtimes/module.js';
import { isPlainObject } from './settings.js';

export class UserModule {
  private constructor(
    readonly decorator: string,
    readonly specifier: string,
    readonly exports: Readonly<Record<string, unknown>>,
  ) {}

  /** Imports `specifier`: a path relative to the config's directory, or a package. */
  static async import(decorator: string, specifier: string, configDir: string): Promise<UserModule> {
    try {
      return new UserModule(decorator, specifier, await importUserModule(specifier, configDir));
    } catch (error) {
      throw new Error(`decorator '${decorator}': configuration.module: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The export `name` that `key` names, which must be a function. */
  fn(key: string, name: string): (...args: unknown[]) => unknown {
    const value = this.#export(key, name);
    if (typeof value !== 'function') throw new Error(`decorator '${this.decorator}': configuration.${key}: export '${name}' of '${this.specifier}' is not a function (it is ${describe(value)})`);
    return value as (...args: unknown[]) => unknown;
  }

  /** The export `name` that `key` names, which must be a JSON Schema object. */
  schema(key: string, name: string): Record<string, unknown> {
    const value = this.#export(key, name);
    if (!isPlainObject(value)) throw new Error(`decorator '${this.decorator}': configuration.${key}: export '${name}' of '${this.specifier}' is not a JSON Schema object (it is ${describe(value)})`);
    return value;
  }

  #export(key: string, name: string): unknown {
    if (!Object.hasOwn(this.exports, name)) {
      const names = Object.keys(this.exports).join(', ') || 'none';
      throw new Error(`decorator '${this.decorator}': configuration.${key}: '${this.specifier}' has no export '${name}'; its exports are: ${names}`);
    }
    return this.exports[name];
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
