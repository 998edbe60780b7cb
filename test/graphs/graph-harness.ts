/**
 * Shared by the graph tests: the fixture members' class paths and a way to serve a `models:` list over HTTP.
 */
import { fileURLToPath } from 'node:url';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';

export { FIXTURES as ONNX_FIXTURES } from '../runtimes/onnx-harness.ts';
export type { Harness } from '../runtimes/onnx-harness.ts';

const MEMBERS_FILE = fileURLToPath(new URL('../fixtures/graphs/members.ts', import.meta.url));

/** Absolute class_path of a model in test/fixtures/graphs/members.ts. */
export function member(exportName: string): string {
  return `${MEMBERS_FILE}#${exportName}`;
}

/** The `models:` lines of `cat`, a FixedClassifier answering label `cat` to any `{x}`: the first member of most test graphs. */
export const CAT = [`  - class_path: ${member('FixedClassifier')}`, '    qualified_name: cat', '    configuration: {label: cat}'];

/** Serves `lines` (the YAML under `models:`, already indented) with every model loaded. */
export function serveModels(lines: readonly string[]): Promise<Harness> {
  return serveYaml(['models:', ...lines, ''].join('\n'));
}

/** POST /api/models/{name}/prediction with a JSON body and optional headers. */
export function predict(harness: Harness, name: string, payload: unknown, headers: Record<string, string> = {}) {
  return harness.app.inject({ method: 'POST', url: `/api/models/${name}/prediction`, payload: payload as object, headers });
}
