/**
 * Reading an export from an imported module namespace. A CommonJS module (a `.cts` or `.cjs` file, or a `.ts`/`.js`
 * file in a package without `"type": "module"`) arrives as a namespace whose `default` is its `module.exports`; Node
 * finds its named exports only by scanning the source, which misses TypeScript compiled on the fly. So:
 *
 * - a name missing from the namespace is looked up among the own properties of `module.exports` (an object, or a
 *   function or class with static members);
 * - the default export of a module compiled from `export default` (`module.exports = { __esModule: true, default }`)
 *   is that `default`, as TypeScript's and Babel's interop have it.
 */

/** Properties every function has, which are not exports. */
const FUNCTION_OWN = new Set(['length', 'name', 'prototype', 'arguments', 'caller']);

/** The export `name` of `namespace` (`default` for the default export), or undefined. */
export function exportOf(namespace: Readonly<Record<string, unknown>>, name: string): unknown {
  const commonJs = commonJsExports(namespace);
  if (name === 'default') {
    if (commonJs && commonJs['__esModule'] === true && Object.hasOwn(commonJs, 'default')) return commonJs['default'];
    return namespace['default'];
  }
  if (Object.hasOwn(namespace, name)) return namespace[name];
  return commonJs && isExportName(commonJs, name) ? commonJs[name] : undefined;
}

/** Every export name `exportOf` can find, for error messages. */
export function exportNames(namespace: Readonly<Record<string, unknown>>): string[] {
  const names = new Set(Object.keys(namespace).filter((name) => name !== 'module.exports'));
  const commonJs = commonJsExports(namespace);
  if (commonJs) for (const name of Object.keys(commonJs)) if (isExportName(commonJs, name)) names.add(name);
  return [...names];
}

function isExportName(exports: Record<string, unknown>, name: string): boolean {
  if (name === '__esModule' || name === 'default' || !Object.hasOwn(exports, name)) return false;
  return typeof exports !== 'function' || !FUNCTION_OWN.has(name);
}

function commonJsExports(namespace: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const exports = Object.hasOwn(namespace, 'module.exports') ? namespace['module.exports'] : namespace['default'];
  const usable = (typeof exports === 'object' && exports !== null) || typeof exports === 'function';
  return usable ? (exports as Record<string, unknown>) : undefined;
}
