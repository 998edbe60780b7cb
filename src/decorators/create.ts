/**
 * Creates a model entry's decorators: built-ins by `longshore:<name>`, user classes by class_path (imported like a
 * model class). Problems point at `models[i].decorators[j].class_path` or `.configuration`.
 */
import { BUILTIN_DECORATORS, type DecoratorEntry } from '../config/schema.js';
import type { Decorator, DecoratorClass, DecoratorSetup } from '../model/contract.js';
import { EntryProblem } from '../errors.js';
import { importClass } from '../runtimes/module.js';
import { builtinDecorator } from './builtin/index.js';
import type { NamedDecorator } from './chain.js';

const BUILTIN_PREFIX = 'longshore:';

export async function createDecorators(entries: readonly DecoratorEntry[] | undefined, setup: DecoratorSetup, configDir: string): Promise<NamedDecorator[]> {
  const created: NamedDecorator[] = [];
  for (const [index, entry] of (entries ?? []).entries()) {
    const decoratorClass = await decoratorClassOf(entry.class_path, configDir, index);
    let decorator: Decorator;
    try {
      decorator = new decoratorClass(structuredClone(entry.configuration) as Record<string, unknown>, setup);
    } catch (error) {
      const key = error instanceof EntryProblem && typeof error.key !== 'string' ? error.key : ['configuration'];
      throw new EntryProblem(['decorators', index, ...key], `decorator '${entry.class_path}': ${(error as Error).message}`);
    }
    if (typeof decorator.predict !== 'function') {
      throw new EntryProblem(['decorators', index, 'class_path'], `'${entry.class_path}' is not a decorator: it has no predict(input, next, context) method`);
    }
    created.push({ label: entry.class_path, decorator });
  }
  return created;
}

async function decoratorClassOf(classPath: string, configDir: string, index: number): Promise<DecoratorClass> {
  if (classPath.startsWith(BUILTIN_PREFIX)) {
    const name = classPath.slice(BUILTIN_PREFIX.length);
    const builtin = builtinDecorator(name);
    if (!builtin) {
      throw new EntryProblem(
        ['decorators', index, 'class_path'],
        `no built-in decorator '${name}'; built-ins: ${BUILTIN_DECORATORS.map((known) => BUILTIN_PREFIX + known).join(', ')}`,
      );
    }
    return builtin;
  }
  try {
    return (await importClass(classPath, configDir)) as unknown as DecoratorClass;
  } catch (error) {
    if (error instanceof EntryProblem) throw new EntryProblem(['decorators', index, 'class_path'], error.message);
    throw error;
  }
}
