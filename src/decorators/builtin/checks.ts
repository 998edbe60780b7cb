/**
 * `longshore:checks`: input rules a JSON Schema cannot say (a date range, a field that depends on another), as
 * functions of a user's module. They run in order before the model; the first that throws answers 400 and the model is
 * not called.
 */
import { LongshoreError, SchemaValidationError } from '../../errors.js';
import type { CallContext, Decorator, DecoratorSetup } from '../../model/contract.js';
import { onlyKeys, stringListSetting, stringSetting, type Configuration } from './settings.js';
import { UserModule } from './user-module.js';

const NAME = 'longshore:checks';

type Check = (input: unknown, context: CallContext) => unknown;

export class ChecksDecorator implements Decorator {
  readonly #module: string;
  readonly #configDir: string;
  readonly #names: readonly string[];
  #checks: { readonly name: string; readonly run: Check }[] = [];

  constructor(configuration: Configuration, setup: DecoratorSetup) {
    onlyKeys(configuration, NAME, ['module', 'checks']);
    this.#module = stringSetting(configuration, 'module');
    this.#names = stringListSetting(configuration, 'checks');
    this.#configDir = setup.configDir;
  }

  async load(): Promise<void> {
    const module = await UserModule.import(NAME, this.#module, this.#configDir);
    this.#checks = this.#names.map((name) => ({ name, run: module.fn('checks', name) as Check }));
  }

  async predict(input: unknown, next: (input: unknown) => Promise<unknown>, context: CallContext): Promise<unknown> {
    for (const { name, run } of this.#checks) {
      let result: unknown;
      try {
        result = await run(input, context);
      } catch (error) {
        // A check may throw a catalogue error of its own (e.g. a SchemaValidationError with details per field).
        if (error instanceof LongshoreError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new SchemaValidationError(`input check '${name}' failed: ${message}`, { details: [{ path: '/', message }] });
      }
      // `(input) => input.x > 0` reads like a check; returning false must not pass silently.
      if (result === false) {
        throw new SchemaValidationError(`input check '${name}' failed: it returned false`, { details: [{ path: '/', message: 'returned false' }] });
      }
    }
    return next(input);
  }
}
