/**
 * The decorator chain around a model's predict (docs/decorators.md): the first listed decorator is the outermost, and
 * each one reaches the next through `next`. Also folds the schemas callers see, from the model's outwards.
 */
import { InferenceError, LongshoreError } from '../errors.js';
import type { CallContext, Decorator } from '../model/contract.js';
import type { SchemaRecord } from '../model/validation.js';
import { ATTR } from '../tracing/span.js';

/** A decorator with the name it was configured by (its class_path), for messages. */
export interface NamedDecorator {
  readonly label: string;
  readonly decorator: Decorator;
}

export type DecoratedCall = (input: unknown, context: CallContext) => Promise<unknown>;

/**
 * Wraps `inner` (the model's own call, validated) in the decorators, outermost first. A decorator that throws an error
 * outside the catalogue becomes a 500 InferenceError that names it; a catalogue error (a 400 from a check, a 503 from
 * the model's queue) passes through as it is.
 */
export function composeChain(model: string, decorators: readonly NamedDecorator[], inner: DecoratedCall): DecoratedCall {
  // Span names stay short: a class_path's export (`file.ts#Cache` → Cache), or the built-in decorator's name.
  const spanNames = decorators.map(({ label }) => `decorator ${label.slice(Math.max(label.lastIndexOf('#'), label.lastIndexOf('/')) + 1)}`);
  return (input, outer) => {
    // With tracing on, each decorator is a span inside the one around it, and the model's call is inside the innermost.
    const call = async (index: number, value: unknown, context: CallContext): Promise<unknown> => {
      const layer = decorators[index];
      if (layer === undefined) return inner(value, context);
      const span = context.span?.child(spanNames[index] as string, { [ATTR.decorator]: layer.label });
      const own = span === undefined ? context : { ...context, span };
      try {
        return await layer.decorator.predict(value, (next) => call(index + 1, next, own), own);
      } catch (error) {
        span?.fail(error);
        if (error instanceof LongshoreError) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new InferenceError(`decorator '${layer.label}' of model '${model}' failed: ${reason}`, { cause: error });
      } finally {
        span?.end();
      }
    };
    return call(0, input, outer);
  };
}

/** The schemas callers see: the model's, passed outwards through each decorator that changes them. */
export function decoratedSchemas(
  decorators: readonly NamedDecorator[],
  input: SchemaRecord | undefined,
  output: SchemaRecord | undefined,
): { input: SchemaRecord | undefined; output: SchemaRecord | undefined } {
  let outerInput = input;
  let outerOutput = output;
  for (let index = decorators.length - 1; index >= 0; index--) {
    const { decorator } = decorators[index] as NamedDecorator;
    if (outerInput !== undefined && decorator.inputSchema) outerInput = decorator.inputSchema(outerInput);
    if (outerOutput !== undefined && decorator.outputSchema) outerOutput = decorator.outputSchema(outerOutput);
  }
  return { input: outerInput, output: outerOutput };
}
