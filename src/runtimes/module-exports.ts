/**
 * Reading an export from an imported module namespace. A CommonJS module (a `.cts` file, or a `.ts`/`.js` file in a
 * package without `"type": "module"`) arrives as a namespace whose `default` is its `module.exports`; Node finds its
 * named exports only by scanning the source, which misses TypeScript compiled on the fly. So a name missing from the
 * namespace is looked up on the CommonJS exports object too, as `import { X } from './file.cjs'` users expect.
 */

/** The export `name` of `namespace` (`default` for the default export), or undefined. */
export function exportOf(namespace: Readonly<Record<string, unknown>>, name: string): unknown {
  if (name in namespace) return namespace[name];
  const commonJs = commonJsExports(namespace);
  return commonJs && name !== 'default' ? commonJs[name] : undefined;
}

/** Every export name `exportOf` can find, for error messages. */
export function exportNames(namespace: Readonly<Record<string, unknown>>): string[] {
  const names = new Set(Object.keys(namespace));
  for (const name of Object.keys(commonJsExports(namespace) ?? {})) names.add(name);
  return [...names];
}

function commonJsExports(namespace: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const exports = namespace['module.exports'] ?? namespace['default'];
  return typeof exports === 'object' && exports !== null ? (exports as Record<string, unknown>) : undefined;
}
