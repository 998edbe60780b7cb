/** The built-in decorators by name (`class_path: longshore:<name>`, docs/decorators.md). */
import type { BUILTIN_DECORATORS } from '../../config/schema.js';
import type { DecoratorClass } from '../../model/contract.js';
import { CacheDecorator } from './cache.js';
import { ChecksDecorator } from './checks.js';
import { PredictionIdDecorator } from './prediction-id.js';
import { TransformDecorator } from './transform.js';

// Keyed by the config's list, so a name added there without a class here fails to compile.
const BUILTINS: Record<(typeof BUILTIN_DECORATORS)[number], DecoratorClass> = {
  prediction_id: PredictionIdDecorator,
  cache: CacheDecorator,
  transform: TransformDecorator,
  checks: ChecksDecorator,
};

export function builtinDecorator(name: string): DecoratorClass | undefined {
  return Object.hasOwn(BUILTINS, name) ? BUILTINS[name as keyof typeof BUILTINS] : undefined;
}
