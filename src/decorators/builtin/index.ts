/** The built-in decorators by name (`class_path: longshore:<name>`). */
import type { DecoratorClass } from '../../model/contract.js';

export function builtinDecorator(name: string): DecoratorClass | undefined {
  void name;
  return undefined;
}
