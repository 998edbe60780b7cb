/**
 * `longshore:prediction_id`: adds a random UUID to every output record, so a caller can quote one prediction (in a
 * support ticket, a feedback call) and it can be found in the logs.
 */
import { randomUUID } from 'node:crypto';
import { InferenceError } from '../../errors.js';
import type { Decorator, DecoratorSetup } from '../../model/contract.js';
import type { SchemaRecord } from '../../model/validation.js';
import { withRequiredProperty } from '../../model/schema-edit.js';
import { isPlainObject, onlyKeys, optionalStringSetting, type Configuration } from './settings.js';

const NAME = 'longshore:prediction_id';

export class PredictionIdDecorator implements Decorator {
  readonly #field: string;
  /** Derived schema per inner schema: the same inner object gets the same outer object, so it is not recompiled. */
  readonly #outputSchemas = new WeakMap<SchemaRecord, SchemaRecord>();

  constructor(configuration: Configuration, _setup?: DecoratorSetup) {
    onlyKeys(configuration, NAME, ['field']);
    this.#field = optionalStringSetting(configuration, 'field') ?? 'prediction_id';
  }

  outputSchema(inner: SchemaRecord): SchemaRecord {
    let outer = this.#outputSchemas.get(inner);
    if (!outer) {
      outer = withRequiredProperty(inner, this.#field, { type: 'string', format: 'uuid', description: `A random UUID that identifies this prediction (${NAME}).` });
      this.#outputSchemas.set(inner, outer);
    }
    return outer;
  }

  async predict(input: unknown, next: (input: unknown) => Promise<unknown>): Promise<unknown> {
    const output = await next(input);
    if (!isPlainObject(output)) {
      const kind = Array.isArray(output) ? 'an array' : output === null ? 'null' : typeof output;
      throw new InferenceError(`${NAME} needs object outputs (a record it can add '${this.#field}' to); the model answered ${kind}`);
    }
    // A new object: the inner output may be shared (the cache's stored entry), so it is never mutated.
    return { ...output, [this.#field]: randomUUID() };
  }
}
