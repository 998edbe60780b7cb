/**
 * config/load.ts: finding the config file, reading it from disk, and adding `--model` entries to it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_CONFIG_FILES, findConfigFile, loadConfigFile, parseConfig, withExtraModels } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { tempDir, writeConfig } from '../helpers/service.ts';

const FILE = '/srv/app/longshore.yaml';

describe('withExtraModels', () => {
  it('adds command-line models after the file models, resolving their paths against the given directory', () => {
    const base = parseConfig('models:\n  - class_path: ./a.ts#A\n', FILE, '/srv/app');
    const merged = withExtraModels(base, [{ label: '--model m=./m.onnx', entry: { qualified_name: 'm', model_path: './m.onnx' } }], '/home/me');
    assert.deepEqual(merged.config.models.map((m) => (m.runtime === 'onnx' || m.runtime === 'transformers' ? m.model_path : m.runtime === 'module' ? m.class_path : m.graph.kind)), ['./a.ts#A', '/home/me/m.onnx']);
    assert.equal(merged.config.models[1]?.create_endpoint, true);
    assert.ok(Object.isFrozen(merged.config.models[1]));
  });

  it('labels problems of a command-line model with its flag instead of a file line', () => {
    const base = parseConfig('models: []\n', FILE, '/srv/app');
    assert.throws(
      () => withExtraModels(base, [{ label: '--model bad name=./m.onnx', entry: { qualified_name: 'bad name', model_path: './m.onnx' } }], '/home/me'),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.details.length === 1 &&
        error.details[0]?.path === 'models[0].qualified_name' &&
        (error.details[0]?.message ?? '').startsWith('--model bad name=./m.onnx: must match pattern'),
    );
  });
});

describe('loadConfigFile', () => {
  it('reads a file and anchors relative paths at its directory', () => {
    const file = writeConfig('service_title: From disk\n');
    const loaded = loadConfigFile(file);
    assert.equal(loaded.config.service_title, 'From disk');
    assert.equal(loaded.file, file);
    assert.equal(loaded.dir, join(file, '..'));
  });

  it('names the file in problems it reports', () => {
    const file = writeConfig('models:\n  - required: maybe\n');
    assert.throws(
      () => loadConfigFile(file),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.details.some((d) => d.message.startsWith(`${file}:2 models[0].required: must be boolean`)) &&
        error.message.startsWith(`invalid configuration in ${file}:`),
    );
  });

  it('throws ConfigError naming a file that cannot be read', () => {
    const file = join(tempDir(), 'absent.yaml');
    assert.throws(() => loadConfigFile(file), (error: unknown) => error instanceof ConfigError && error.message.includes(file));
  });
});

describe('findConfigFile', () => {
  function dirWith(...names: string[]): string {
    const dir = tempDir();
    for (const name of names) writeFileSync(join(dir, name), '{}\n');
    return dir;
  }

  it('uses the explicit path first, resolved against the working directory', () => {
    const dir = dirWith('mine.yaml', 'longshore.yaml', 'env.yaml');
    assert.equal(findConfigFile('mine.yaml', { LONGSHORE_CONFIG: 'env.yaml' }, dir), join(dir, 'mine.yaml'));
  });

  it('prefers LONGSHORE_CONFIG over REST_CONFIG and over files in the working directory', () => {
    const dir = dirWith('a.yaml', 'b.yaml', 'longshore.yaml');
    assert.equal(findConfigFile(undefined, { LONGSHORE_CONFIG: 'a.yaml', REST_CONFIG: 'b.yaml' }, dir), join(dir, 'a.yaml'));
  });

  it('uses REST_CONFIG when LONGSHORE_CONFIG is not set', () => {
    const dir = dirWith('b.yaml', 'longshore.yaml');
    assert.equal(findConfigFile(undefined, { REST_CONFIG: 'b.yaml' }, dir), join(dir, 'b.yaml'));
  });

  it('treats an empty LONGSHORE_CONFIG as unset and falls back to REST_CONFIG', () => {
    const dir = dirWith('b.yaml');
    assert.equal(findConfigFile(undefined, { LONGSHORE_CONFIG: '', REST_CONFIG: 'b.yaml' }, dir), join(dir, 'b.yaml'));
  });

  it('looks for the default names in the working directory, in order', () => {
    assert.deepEqual([...DEFAULT_CONFIG_FILES], ['longshore.yaml', 'longshore.yml', 'rest_config.yaml']);
    const both = dirWith('rest_config.yaml', 'longshore.yaml');
    assert.equal(findConfigFile(undefined, {}, both), join(both, 'longshore.yaml'));
    const yml = dirWith('rest_config.yaml', 'longshore.yml');
    assert.equal(findConfigFile(undefined, {}, yml), join(yml, 'longshore.yml'));
    const rest = dirWith('rest_config.yaml');
    assert.equal(findConfigFile(undefined, {}, rest), join(rest, 'rest_config.yaml'));
  });

  it('throws ConfigError when a named file does not exist', () => {
    const dir = dirWith('longshore.yaml');
    assert.throws(
      () => findConfigFile(undefined, { LONGSHORE_CONFIG: 'nope.yaml' }, dir),
      (error: unknown) => error instanceof ConfigError && error.message.includes(join(dir, 'nope.yaml')),
    );
  });

  it('throws ConfigError saying how to provide a config when none is found', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'longshore.yaml.d'));
    assert.throws(
      () => findConfigFile(undefined, {}, dir),
      (error: unknown) => error instanceof ConfigError && /--config/.test(error.message) && /LONGSHORE_CONFIG/.test(error.message),
    );
  });
});
