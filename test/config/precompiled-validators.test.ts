/**
 * config/validators.ts: the validators the build precompiles (Ajv standalone code, dist/config/validators.generated.cjs,
 * loaded by the packaged command instead of compiling the schema at every start) accept, fill and reject exactly as the
 * ones compiled at run time from the sources: same verdict, same defaults written, same errors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import standalone from 'ajv/dist/standalone/index.js';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { configValidators, validatorsSource, type ConfigValidators } from '../../src/config/validators.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The build's source, evaluated as the CommonJS module it is written as (its `require`s resolve from here). */
function precompiled(): ConfigValidators {
  const module = { exports: {} as ConfigValidators };
  new Function('require', 'module', 'exports', validatorsSource(standalone.default))(createRequire(import.meta.url), module, module.exports);
  return module.exports;
}

/** The runtime the loader would write into an entry before validation (config/load.ts, runtimeOfKeys), for these inputs. */
function withRuntimes(config: Record<string, unknown>): Record<string, unknown> {
  const models = (config.models as Record<string, unknown>[] | undefined) ?? [];
  for (const entry of models) {
    entry.runtime ??= entry.graph !== undefined ? 'graph' : entry.class_path !== undefined ? 'module' : /\.onnx$/i.test(String(entry.model_path)) ? 'onnx' : 'transformers';
  }
  return config;
}

function outcome(validate: ValidateFunction, input: unknown): { valid: boolean; data: string; errors: string } {
  const data = structuredClone(input);
  const valid = validate(data);
  return { valid, data: JSON.stringify(data), errors: JSON.stringify(validate.errors ?? []) };
}

const EXAMPLE = withRuntimes(parse(readFileSync(join(ROOT, 'examples/longshore.yaml'), 'utf8')) as Record<string, unknown>);

const CONFIGS: readonly [string, unknown][] = [
  ['the example config', EXAMPLE],
  ['an empty config', {}],
  ['an ONNX file with serving keys', { models: [{ runtime: 'onnx', model_path: './m.onnx', batching: { policy: 'timed', max_latency_ms: 2 } }] }],
  ['an unknown top-level key and a wrong type', { servr: {}, server: { port: 'eighty' } }],
  ['a key of another runtime', { models: [{ runtime: 'module', class_path: './m.ts#M', model_path: './m.onnx' }] }],
  ['a missing required key', { models: [{ runtime: 'module' }] }],
  ['a bad enum value and a negative number', { logging: { format: 'xml' }, defaults: { max_batch_size: -1 } }],
  ['an unknown runtime', { models: [{ runtime: 'tensorflow', model_path: './m.pb' }] }],
];

const MODELS: readonly [string, unknown][] = [
  ['one --model file', { models: [{ runtime: 'onnx', qualified_name: 'iris', model_path: './iris.onnx' }] }],
  ['a --model name with a space', { models: [{ runtime: 'onnx', qualified_name: 'bad name', model_path: './iris.onnx' }] }],
  ['a --model entry with an unknown key', { models: [{ runtime: 'onnx', model_path: './iris.onnx', colour: 'red' }] }],
];

describe('precompiled config validators', () => {
  const built = precompiled();
  const compiled = configValidators();

  for (const [name, input] of CONFIGS) {
    it(`validate the whole config as the compiled ones do: ${name}`, () => {
      assert.deepEqual(outcome(built.config, input), outcome(compiled.config, input));
    });
  }

  for (const [name, input] of MODELS) {
    it(`validate --model entries as the compiled ones do: ${name}`, () => {
      assert.deepEqual(outcome(built.models, input), outcome(compiled.models, input));
    });
  }

  it('accept the example config and reject a bad one (the cases above are not all passes or all failures)', () => {
    assert.equal(outcome(built.config, EXAMPLE).valid, true, outcome(built.config, EXAMPLE).errors);
    assert.equal(outcome(built.config, { servr: {} }).valid, false);
  });
});
