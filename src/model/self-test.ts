/**
 * Self-tests (docs/self-tests.md): a model's examples run through its whole served path, and each answer compared with
 * the expected output. Used after load (a failure fails the model) and by the deep readiness probe.
 */
import type { ModelExample } from './contract.js';

/** Numbers this close count as equal when an example does not set its own tolerance. */
export const DEFAULT_TOLERANCE = 1e-6;

/** Most differences listed per example: enough to see what is wrong, short enough to read in a status line. */
const MAX_DIFFERENCES = 5;

/** The example's display name: its own, else its position. */
export function exampleName(example: ModelExample, index: number): string {
  return example.name ?? `example ${index}`;
}

/**
 * A served model's self-tests: the class's examples are in the model's own schema, so they go to `direct`, the model
 * itself past its decorators; the config entry's are what callers send, so they take `served`, the whole decorated path.
 */
export async function runSelfTests(
  own: readonly ModelExample[],
  config: readonly ModelExample[],
  direct: (input: unknown) => Promise<unknown>,
  served: (input: unknown) => Promise<unknown>,
): Promise<string[]> {
  return [...(await runExamples(own, direct)), ...(await runExamples(config, served, own.length))];
}

/**
 * The examples whose input is what callers send (OpenAPI request examples), named: the config entry's, and the
 * class's own when they are in the schema callers see (no decorator changed it).
 */
export function callerExamples(own: readonly ModelExample[], config: readonly ModelExample[], ownAreCallerShaped: boolean): { readonly name: string; readonly input: unknown }[] {
  const named = [...own, ...config].map((example, index) => ({ name: exampleName(example, index), input: example.input }));
  return ownAreCallerShaped ? named : named.slice(own.length);
}

/**
 * Runs every example (one after another, so a probe never floods the model) and returns one line per failing example,
 * empty when all pass.
 */
export async function runExamples(examples: readonly ModelExample[], predict: (input: unknown) => Promise<unknown>, firstIndex = 0): Promise<string[]> {
  const failures: string[] = [];
  for (const [index, example] of examples.entries()) {
    const name = exampleName(example, firstIndex + index);
    let output: unknown;
    try {
      output = await predict(example.input);
    } catch (error) {
      failures.push(`self-test '${name}' failed: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (example.expected_output === undefined) continue;
    const differences = differencesOf(example.expected_output, output, example.tolerance ?? DEFAULT_TOLERANCE, '');
    if (differences.length > 0) {
      const shown = differences.slice(0, MAX_DIFFERENCES).join('; ');
      const more = differences.length > MAX_DIFFERENCES ? ` (and ${differences.length - MAX_DIFFERENCES} more)` : '';
      failures.push(`self-test '${name}' answered differently than expected: ${shown}${more}`);
    }
  }
  return failures;
}

/**
 * Where `actual` differs from `expected`, as `path: expected X, got Y` lines. Only the fields `expected` names are
 * compared (an answer may carry more); arrays must match in length and element by element; numbers within `tolerance`.
 */
export function differencesOf(expected: unknown, actual: unknown, tolerance: number, path: string): string[] {
  const at = path || '/';
  if (typeof expected === 'number' && typeof actual === 'number') {
    const same = expected === actual || Math.abs(expected - actual) <= tolerance || (Number.isNaN(expected) && Number.isNaN(actual));
    return same ? [] : [`${at}: expected ${expected}, got ${actual}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at}: expected an array, got ${show(actual)}`];
    if (actual.length !== expected.length) return [`${at}: expected ${expected.length} elements, got ${actual.length}`];
    return expected.flatMap((item, index) => differencesOf(item, actual[index], tolerance, `${path}/${index}`));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return [`${at}: expected an object, got ${show(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) =>
      key in actual ? differencesOf(value, (actual as Record<string, unknown>)[key], tolerance, `${path}/${pointerToken(key)}`) : [`${path}/${pointerToken(key)}: missing from the answer`],
    );
  }
  return Object.is(expected, actual) ? [] : [`${at}: expected ${show(expected)}, got ${show(actual)}`];
}

/** A key as a JSON Pointer token: `~` and `/` escaped (`a/b` is `a~1b`), so the path names one field. */
function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
