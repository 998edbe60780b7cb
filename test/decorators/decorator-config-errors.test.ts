/**
 * Bad decorator entries are config errors before anything loads: createService throws one ConfigError whose
 * details read `file:LINE models[i].decorators[j].<key>: message` — an unknown built-in, a bad or unknown setting of a
 * built-in, a user class that cannot be imported or is not a decorator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createService } from '../../src/service.ts';
import { silentLogger, writeConfig } from '../helpers/service.ts';
import { fixturePath } from './decorator-helpers.ts';

const MODEL = fixturePath('counter-model.ts', 'CounterModel');

/** The details of the ConfigError that fromConfig throws for `yaml`, and the config file's path. */
async function configProblems(yaml: string): Promise<{ details: { path: string; message: string }[]; file: string }> {
  const file = writeConfig(yaml);
  try {
    await createService(loadConfigFile(file), silentLogger());
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return { details: error.details, file };
  }
  assert.fail('createService accepted an invalid decorator');
}

describe('decorator config errors', () => {
  it('names an unknown built-in at its class_path line, listing the built-ins', async () => {
    const { details, file } = await configProblems(`models:\n  - class_path: ${MODEL}\n    decorators:\n      - class_path: longshore:nope\n`);
    assert.equal(details.length, 1);
    assert.equal(details[0]?.path, 'models[0].decorators[0].class_path');
    assert.equal(
      details[0]?.message,
      `${file}:4 models[0].decorators[0].class_path: no built-in decorator 'nope'; built-ins: longshore:prediction_id, longshore:cache, longshore:transform, longshore:checks`,
    );
  });

  it('names a bad setting at its own line, under configuration', async () => {
    const { details, file } = await configProblems(
      [
        'models:',
        `  - class_path: ${MODEL}`,
        '    decorators:',
        '      - class_path: longshore:prediction_id',
        '      - class_path: longshore:cache',
        '        configuration:',
        '          ttl_ms: 100',
        '          max_entries: -3',
      ].join('\n'),
    );
    assert.equal(details.length, 1);
    assert.equal(details[0]?.path, 'models[0].decorators[1].configuration.max_entries');
    assert.equal(details[0]?.message, `${file}:8 models[0].decorators[1].configuration.max_entries: decorator 'longshore:cache': max_entries must be an integer ≥ 1, got -3`);
  });

  it('reports an unknown setting, a missing one, and a rule across settings, one per entry', async () => {
    const { details, file } = await configProblems(
      [
        'models:',
        `  - class_path: ${MODEL}`,
        '    decorators:',
        '      - class_path: longshore:cache',
        '        configuration: {max_entry: 10}',
        `  - class_path: ${MODEL}`,
        '    qualified_name: second',
        '    decorators:',
        '      - class_path: longshore:checks',
        '        configuration: {checks: [a]}',
        `  - class_path: ${MODEL}`,
        '    qualified_name: third',
        '    decorators:',
        '      - class_path: longshore:transform',
        '        configuration: {module: ./t.ts}',
      ].join('\n'),
    );
    assert.deepEqual(
      details.map((d) => d.message),
      [
        `${file}:5 models[0].decorators[0].configuration.max_entry: decorator 'longshore:cache': max_entry is not a setting of longshore:cache; its settings are: max_entries, ttl_ms`,
        `${file}:10 models[1].decorators[0].configuration.module: decorator 'longshore:checks': module must be a non-empty string, got nothing`,
        `${file}:15 models[2].decorators[0].configuration: decorator 'longshore:transform': configuration needs at least one of input, output, input_schema, output_schema`,
      ],
    );
  });

  it('reports a user decorator that cannot be found, and a class that is not a decorator, at class_path', async () => {
    const { details, file } = await configProblems(
      [
        'models:',
        `  - class_path: ${MODEL}`,
        '    decorators:',
        `      - class_path: ${fixturePath('trace.ts', 'Gamma')}`,
        `  - class_path: ${MODEL}`,
        '    qualified_name: second',
        '    decorators:',
        '      - class_path: longshore:prediction_id',
        `      - class_path: ${fixturePath('trace.ts', 'NoPredict')}`,
      ].join('\n'),
    );
    assert.equal(details.length, 2);
    assert.ok(details[0]?.message.startsWith(`${file}:4 models[0].decorators[0].class_path: `), details[0]?.message);
    assert.match(details[0]?.message ?? '', /has no export 'Gamma'; its exports are: Alpha, Beta, Broken, NoPredict, TraceModel/);
    assert.equal(
      details[1]?.message,
      `${file}:9 models[1].decorators[1].class_path: '${fixturePath('trace.ts', 'NoPredict')}' is not a decorator: it has no predict(input, next, context) method`,
    );
  });
});
