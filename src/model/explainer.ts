/**
 * explain for a served model (docs/operations.md): the model's own explain(), or 501 without one. The input is checked
 * against the model's own input schema, since explain is not decorated (the dataplane turns V2 tensors into records of
 * that schema, dataplane/tensor-calls.ts).
 */
import type { LongshoreError } from '../errors.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import { inputError, notExplainableError } from './call-errors.js';
import type { CallContext } from '../call-context.js';
import type { ModelSchemas } from './model-schemas.js';

export class Explainer {
  constructor(
    private readonly model: RuntimeModel,
    private readonly name: string,
    private readonly schemas: ModelSchemas,
    /** What the model throws, as a catalogue error. */
    private readonly modelThrew: (error: unknown) => LongshoreError,
  ) {}

  /** Throws 501 NotImplementedError when the model has no explain(). */
  assertAvailable(): void {
    if (typeof this.model.explain !== 'function') {
      throw notExplainableError(this.name);
    }
  }

  /** Why the model answered what it did, for one record. The caller has checked the model is ready. */
  async explain(input: unknown, context: CallContext): Promise<unknown> {
    this.assertAvailable();
    const explain = this.model.explain as NonNullable<RuntimeModel['explain']>;
    const problems = this.schemas.validateModelInput?.(input);
    if (problems) throw inputError(this.name, problems);
    try {
      return await explain.call(this.model, input, context);
    } catch (error) {
      throw this.modelThrew(error);
    }
  }
}
