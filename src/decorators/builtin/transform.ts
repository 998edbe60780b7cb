/**
 * `longshore:transform`: a preprocessor and/or postprocessor from a user's module of functions, with the schemas
 * callers see when the transform changes the shape of the input or the output (raw text in, features to the model).
 */
import type { CallContext, Decorator, DecoratorSetup } from '../../model/contract.js';
import type { SchemaRecord } from '../../model/validation.js';
import { onlyKeys, optionalStringSetting, schemaSetting, stringSetting, type Configuration } from './settings.js';
import { UserModule } from './user-module.js';

const NAME = 'longshore:transform';

type InputFn = (input: unknown, context: CallContext) => unknown;
type OutputFn = (output: unknown, input: unknown, context: CallContext) => unknown;

export class TransformDecorator implements Decorator {
  readonly #module: string;
  readonly #configDir: string;
  readonly #inputName: string | undefined;
  readonly #outputName: string | undefined;
  /** An inline schema from construction; an export name is replaced by its schema in load(). */
  #inputSchema: string | SchemaRecord | undefined;
  #outputSchema: string | SchemaRecord | undefined;
  #input: InputFn | undefined;
  #output: OutputFn | undefined;

  constructor(configuration: Configuration, setup: DecoratorSetup) {
    onlyKeys(configuration, NAME, ['module', 'input', 'output', 'input_schema', 'output_schema']);
    this.#module = stringSetting(configuration, 'module');
    this.#configDir = setup.configDir;
    this.#inputName = optionalStringSetting(configuration, 'input');
    this.#outputName = optionalStringSetting(configuration, 'output');
    this.#inputSchema = schemaSetting(configuration, 'input_schema');
    this.#outputSchema = schemaSetting(configuration, 'output_schema');
    if ([this.#inputName, this.#outputName, this.#inputSchema, this.#outputSchema].every((setting) => setting === undefined)) {
      // Not a key of its own: create.ts reports it at `configuration`.
      throw new Error('configuration needs at least one of input, output, input_schema, output_schema');
    }
  }

  async load(): Promise<void> {
    const module = await UserModule.import(NAME, this.#module, this.#configDir);
    if (this.#inputName !== undefined) this.#input = module.fn('input', this.#inputName) as InputFn;
    if (this.#outputName !== undefined) this.#output = module.fn('output', this.#outputName) as OutputFn;
    if (typeof this.#inputSchema === 'string') this.#inputSchema = module.schema('input_schema', this.#inputSchema);
    if (typeof this.#outputSchema === 'string') this.#outputSchema = module.schema('output_schema', this.#outputSchema);
  }

  // Before load() a schema named by export is not known yet: the inner one stands in (the model is not ready then).
  inputSchema(inner: SchemaRecord): SchemaRecord {
    return typeof this.#inputSchema === 'object' ? this.#inputSchema : inner;
  }

  outputSchema(inner: SchemaRecord): SchemaRecord {
    return typeof this.#outputSchema === 'object' ? this.#outputSchema : inner;
  }

  async predict(input: unknown, next: (input: unknown) => Promise<unknown>, context: CallContext): Promise<unknown> {
    const inner = this.#input ? await this.#input(input, context) : input;
    const output = await next(inner);
    // The postprocessor gets what the caller sent, not what the preprocessor made of it.
    return this.#output ? await this.#output(output, input, context) : output;
  }
}
