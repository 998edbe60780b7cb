/**
 * Problems in model entries found when the registry imports and constructs the models: every one is reported at once
 * as `file:LINE models[i].key: message`, sorted by line, before anything is loaded or served.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createService } from '../../src/service.ts';
import type { EchoModel } from '../fixtures/code-models/echo.ts';
import type { SlowModel } from '../fixtures/code-models/slow.ts';
import { fixture, silentLogger, tempDir, writeConfig } from '../helpers/service.ts';

/** The ConfigError createService throws for the config file `yaml` (written to a temp dir). */
async function registryProblems(yaml: string): Promise<{ error: ConfigError; file: string }> {
  const file = writeConfig(yaml);
  try {
    await createService(loadConfigFile(file), silentLogger());
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return { error, file };
  }
  assert.fail('createService accepted an invalid config');
}

describe('createService: one problem per bad model entry', () => {
  it('reports a class_path whose file does not exist', async () => {
    const missing = fixture('missing.ts', 'Missing');
    const { error, file } = await registryProblems(`service_title: t\nmodels:\n  - class_path: ${missing}\n`);
    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'models[0].class_path');
    assert.ok(error.details[0]?.message.startsWith(`${file}:3 models[0].class_path: file not found: ${fixture('missing.ts')}`));
  });

  it('reports an export the module does not have, listing the exports it does have', async () => {
    const { error, file } = await registryProblems(`models:\n  - class_path: ${fixture('echo.ts', 'EkoModel')}\n`);
    assert.equal(error.details.length, 1);
    const message = error.details[0]?.message ?? '';
    assert.ok(message.startsWith(`${file}:2 models[0].class_path: `), message);
    assert.match(message, /has no export 'EkoModel'/);
    assert.match(message, /EchoModel/);
  });

  it('reports a class that is not a model (no predict method)', async () => {
    const { error, file } = await registryProblems(`models:\n  - class_path: ${fixture('not-a-model.ts', 'NotAModel')}\n`);
    assert.equal(error.details.length, 1);
    assert.ok(error.details[0]?.message.startsWith(`${file}:2 models[0].class_path: `));
    assert.match(error.details[0]?.message ?? '', /'NotAModel' .* is not a model: it has no predict\(\) method/);
  });

  it('reports an export that is not a class', async () => {
    const { error, file } = await registryProblems(`models:\n  - class_path: ${fixture('not-a-class.ts', 'NotAClass')}\n`);
    assert.equal(error.details.length, 1);
    assert.ok(error.details[0]?.message.startsWith(`${file}:2 models[0].class_path: `));
    assert.match(error.details[0]?.message ?? '', /is not a class/);
  });

  it('reports a package that is not installed', async () => {
    const { error, file } = await registryProblems('models:\n  - class_path: no-such-longshore-package#Model\n');
    assert.equal(error.details.length, 1);
    assert.ok(error.details[0]?.message.startsWith(`${file}:2 models[0].class_path: package 'no-such-longshore-package' not found`));
  });

  it('reports a constructor that throws at the configuration key', async () => {
    const { error, file } = await registryProblems(
      `models:\n  - class_path: ${fixture('ctor-throws.ts', 'CtorThrowsModel')}\n    configuration: {threshold: high}\n`,
    );
    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'models[0].configuration');
    assert.ok(error.details[0]?.message.startsWith(`${file}:3 models[0].configuration: the constructor of CtorThrowsModel threw`));
    assert.match(error.details[0]?.message ?? '', /threshold must be a number/);
  });

  it('reports a duplicate qualified_name at the later entry', async () => {
    const echo = fixture('echo.ts', 'EchoModel');
    const { error, file } = await registryProblems(`models:\n  - class_path: ${echo}\n  - class_path: ${echo}\n`);
    assert.equal(error.details.length, 1);
    assert.ok(error.details[0]?.message.startsWith(`${file}:3 models[1].class_path: duplicate qualified_name 'echo'`));
    assert.match(error.details[0]?.message ?? '', /also used by models\[0\]/);
  });

  it('points a duplicate set by qualified_name at that key', async () => {
    const { error, file } = await registryProblems(
      [
        'models:',
        `  - class_path: ${fixture('echo.ts', 'EchoModel')}`,
        `  - class_path: ${fixture('batch.ts', 'BatchModel')}`,
        '    qualified_name: echo',
        "    version: '2.1.0'",
      ].join('\n'),
    );
    assert.equal(error.details.length, 1);
    assert.ok(error.details[0]?.message.startsWith(`${file}:4 models[1].qualified_name: duplicate qualified_name 'echo'`));
  });

  it('reports a model whose schema is not a valid JSON Schema', async () => {
    const file = join(tempDir(), 'broken-schema.ts');
    writeFileSync(file, readFileSync(fixture('echo.ts'), 'utf8').replace("x: { type: 'number' }", "x: { type: 'numeric' }"));
    const { error } = await registryProblems(`models:\n  - class_path: ${file}#EchoModel\n`);
    assert.equal(error.details.length, 1);
    assert.match(error.details[0]?.message ?? '', /:2 models\[0\]\.class_path: input_schema of model 'echo' is not a valid JSON Schema/);
  });

  it('reports every bad entry at once, sorted by line', async () => {
    const { error, file } = await registryProblems(
      [
        'service_title: many problems',
        'models:',
        `  - class_path: ${fixture('echo.ts', 'EchoModel')}`,
        `  - class_path: ${fixture('missing.ts')}`,
        `  - class_path: ${fixture('echo.ts', 'Nope')}`,
        `  - class_path: ${fixture('not-a-model.ts', 'NotAModel')}`,
        `  - class_path: ${fixture('not-a-class.ts', 'NotAClass')}`,
        `  - class_path: ${fixture('echo.ts')}`,
      ].join('\n'),
    );
    assert.deepEqual(
      error.details.map((d) => d.message.slice(0, d.message.indexOf(': '))),
      [
        `${file}:4 models[1].class_path`,
        `${file}:5 models[2].class_path`,
        `${file}:6 models[3].class_path`,
        `${file}:7 models[4].class_path`,
        `${file}:8 models[5].class_path`,
      ],
    );
    assert.equal(error.message.split('\n').length, 1 + error.details.length, 'the message has a header and one line per problem');
  });
});

describe('createService: good entries', () => {
  it('resolves a relative class_path against the directory of the config file', async () => {
    const dir = tempDir();
    copyFileSync(fixture('echo.ts'), join(dir, 'my-echo.ts'));
    const file = writeConfig('models:\n  - class_path: ./my-echo.ts#EchoModel\n', { dir });
    const { registry } = await createService(loadConfigFile(file), silentLogger());
    assert.deepEqual(registry.list().map((m) => m.name), ['echo']);
  });

  it('uses the default export when class_path has no #Export', async () => {
    const loaded = parseConfig(`models:\n  - class_path: ${fixture('echo.ts')}\n`, '<test>', tempDir());
    const { registry } = await createService(loaded, silentLogger());
    assert.equal(registry.get('echo')?.model.constructor.name, 'EchoModel');
  });

  it('applies the metadata overrides of the entry', async () => {
    const loaded = parseConfig(
      [
        'models:',
        `  - class_path: ${fixture('echo.ts', 'EchoModel')}`,
        '    qualified_name: echo-v2',
        '    display_name: Echo Two',
        '    description: Overridden.',
        '    version: "9.9"',
      ].join('\n'),
      '<test>',
      tempDir(),
    );
    const { registry } = await createService(loaded, silentLogger());
    assert.deepEqual(registry.list().map((m) => m.metadata), [
      { qualified_name: 'echo-v2', display_name: 'Echo Two', description: 'Overridden.', version: '9.9' },
    ]);
  });

  it('lets a display name that only repeats the class name follow a renamed qualified_name', async () => {
    const dir = tempDir();
    const file = join(dir, 'plain.ts');
    writeFileSync(file, readFileSync(fixture('echo.ts'), 'utf8').replace("display_name = 'Echo'", "display_name = 'echo'"));
    const loaded = parseConfig(`models:\n  - class_path: ${file}#EchoModel\n    qualified_name: parrot\n`, '<test>', dir);
    const { registry } = await createService(loaded, silentLogger());
    assert.equal(registry.require('parrot').metadata.display_name, 'parrot');
  });

  it("passes the model a mutable copy of the entry's configuration", async () => {
    const loaded = parseConfig(
      `models:\n  - class_path: ${fixture('echo.ts', 'EchoModel')}\n    configuration:\n      greeting: hi\n      list: [1, 2]\n`,
      '<test>',
      tempDir(),
    );
    const { registry } = await createService(loaded, silentLogger());
    const model = registry.get('echo')?.model as EchoModel;
    assert.deepEqual(model.configuration, { greeting: 'hi', list: [1, 2] });
    assert.ok(!Object.isFrozen(model.configuration));
    assert.notEqual(model.configuration, loaded.config.models[0]?.configuration);
  });

  it('does not call load() while creating the models', async () => {
    const loaded = parseConfig(`models:\n  - class_path: ${fixture('slow.ts', 'SlowModel')}\n`, '<test>', tempDir());
    const { registry } = await createService(loaded, silentLogger());
    assert.equal((registry.get('slow')?.model as SlowModel).loadStarted, false);
    assert.equal(registry.get('slow')?.state, 'loading');
    assert.equal(registry.startupComplete, false);
  });
});
