/**
 * A model repository folder (issue 16, config side): `<repo>/<name>/<version>/model.onnx` or `model.ts`, a
 * `longshore.yaml` fragment per model, the `model_repository` key and `--model-repository` flag, and their problems.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { readModelRepository } from '../../src/config/model-repository.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir, thrownConfigError, writeConfig } from '../helpers/service.ts';

const IRIS = join(import.meta.dirname, '../fixtures/onnx/iris_logreg.onnx');

const CODE_MODEL = `export default class Echo {
  input_schema = { type: 'object' };
  output_schema = { type: 'object' };
  constructor(private readonly configuration: Record<string, unknown> = {}) {}
  predict(input: unknown) {
    return { input, configuration: this.configuration };
  }
}
`;

/** A repository: `files` maps relative paths to contents (`IRIS` copies the ONNX fixture). */
function repository(files: Record<string, string>): string {
  const root = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    if (text === IRIS) copyFileSync(IRIS, join(root, path));
    else writeFileSync(join(root, path), text);
  }
  return root;
}

function entries(root: string, only?: string) {
  return readModelRepository(root, only).models.map((model) => model.entry);
}

function problems(root: string): string[] {
  return thrownConfigError(() => readModelRepository(root)).message.split('\n').slice(1).map((line) => line.trim().replaceAll(root, '<repo>'));
}

describe('readModelRepository', () => {
  it('reads <name>/<version>/model.onnx and model.ts, models in name order, hidden entries and stray files skipped', () => {
    const root = repository({
      'iris/1/model.onnx': IRIS,
      'iris/3/model.onnx': IRIS,
      'iris/config.pbtxt': '',
      'echo/2/model.ts': CODE_MODEL,
      '.cache/1/model.onnx': IRIS,
      'iris/.tmp/model.onnx': IRIS,
      'README.md': '',
    });
    assert.deepEqual(entries(root), [
      { qualified_name: 'echo', version: '2', class_path: join(root, 'echo/2/model.ts') },
      { qualified_name: 'iris', version: '1', model_path: join(root, 'iris/1/model.onnx') },
      { qualified_name: 'iris', version: '3', model_path: join(root, 'iris/3/model.onnx') },
    ]);
    assert.deepEqual(entries(root, 'iris').map((entry) => entry.version), ['1', '3']);
  });

  it('lays the fragment longshore.yaml under every version, and applies its version_policy', () => {
    const root = repository({
      'iris/1/model.onnx': IRIS,
      'iris/2/model.onnx': IRIS,
      'iris/10/model.onnx': IRIS,
      'iris/longshore.yaml': 'timeout_ms: 500\nversion_policy: {latest: 2}\n',
    });
    assert.deepEqual(entries(root), [
      { timeout_ms: 500, qualified_name: 'iris', version: '10', model_path: join(root, 'iris/10/model.onnx') },
      { timeout_ms: 500, qualified_name: 'iris', version: '2', model_path: join(root, 'iris/2/model.onnx') },
    ]);
    writeFileSync(join(root, 'iris/longshore.yaml'), 'version_policy:\n  specific: ["1"]\n');
    assert.deepEqual(entries(root).map((entry) => entry.version), ['1']);
  });

  it('reports every problem of the folders and fragments, naming the folder or the fragment line', () => {
    const root = repository({
      'bad name/1/model.onnx': IRIS,
      'empty/README.md': '',
      'nofile/1/notes.txt': '',
      'both/1/model.onnx': IRIS,
      'both/1/model.ts': CODE_MODEL,
      'badversion/v 1/model.onnx': IRIS,
      'frag/1/model.onnx': IRIS,
      'frag/longshore.yaml': 'timeout_ms: 5\nmodel_path: ./x.onnx\nversion_policy: {specific: ["1", "7"]}\n',
      'policy/1/model.onnx': IRIS,
      'policy/longshore.yaml': '# settings\nversion_policy: {specific: ["7"]}\n',
      'syntax/1/model.onnx': IRIS,
      'syntax/longshore.yaml': 'timeout_ms: [1\n',
    });
    assert.deepEqual(problems(root), [
      "<repo>/bad name: 'bad name' is not a usable model name: use letters, digits, '_', '.' and '-', starting with a letter or digit",
      "<repo>/badversion/v 1: 'v 1' is not a usable version: use letters, digits, '_', '.' and '-' (Triton: 1, 2, ...)",
      '<repo>/both/1: holds several model files (model.onnx, model.ts): keep one',
      '<repo>/empty: has no version folder: put the model in <repo>/empty/1/model.onnx (or model.ts)',
      "<repo>/frag/longshore.yaml:2 model_path: is set by the model repository's folders (<name>/<version>/model.onnx), not by longshore.yaml",
      '<repo>/nofile/1: holds no model file: expected model.onnx (an ONNX model), one of model.ts, model.mts, model.js, model.mjs (a code model whose default export is the model class) or config.json (a Hugging Face model folder)',
      '<repo>/policy/longshore.yaml:2 version_policy.specific: specific names version(s) that do not exist: 7; the versions are: 1',
      '<repo>/syntax/longshore.yaml:2: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('says when the repository, or the one model asked for, does not exist', () => {
    const root = tempDir();
    assert.match(thrownConfigError(() => readModelRepository(join(root, 'nope'))).message, /nope: does not exist \(model repository/);
    assert.match(thrownConfigError(() => readModelRepository(root, 'iris')).message, /iris: no such model folder in the model repository/);
    assert.deepEqual(readModelRepository(root).warnings, [`the model repository ${root} holds no model folder (<name>/<version>/model.onnx)`]);
  });
});

describe('model_repository in longshore.yaml', () => {
  it('serves the repository (relative to the file) after models:', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'repo/iris/1'), { recursive: true });
    copyFileSync(IRIS, join(dir, 'repo/iris/1/model.onnx'));
    const file = writeConfig(`model_repository: ./repo\nmodels:\n  - model_path: ${IRIS}\n    qualified_name: first\n`, { dir });
    const models = loadConfigFile(file).config.models;
    assert.deepEqual(models.map((entry) => [entry.qualified_name, entry.version, entry.runtime]), [
      ['first', undefined, 'onnx'],
      ['iris', '1', 'onnx'],
    ]);
  });

  it('checks the fragment keys with the entry schema, at the fragment line; a name also in models: is a problem', () => {
    const root = repository({ 'iris/1/model.onnx': IRIS, 'iris/longshore.yaml': '# shared\ntimeout_ms: soon\n' });
    const file = writeConfig(`model_repository: ${root}\nmodels:\n  - model_path: ${IRIS}\n    qualified_name: other\n`);
    assert.deepEqual(thrownConfigError(() => loadConfigFile(file)).message.split('\n').slice(1).map((line) => line.trim()), [
      `${root}/iris/longshore.yaml:2 timeout_ms: must be integer`,
    ]);
    // An ONNX entry without qualified_name is named after its file (iris_logreg).
    const other = repository({ 'iris_logreg/1/model.onnx': IRIS, 'named/1/model.onnx': IRIS });
    const clash = writeConfig(`model_repository: ${other}\nmodels:\n  - model_path: ${IRIS}\n  - qualified_name: named\n    versions:\n      - {version: "1", model_path: ${IRIS}}\n      - {version: "2", model_path: ${IRIS}}\n`);
    assert.deepEqual(thrownConfigError(() => loadConfigFile(clash)).message.split('\n').slice(1).map((line) => line.trim()), [
      `${clash}:3 models[0].model_path: model 'iris_logreg' is also in the model repository (${other}/iris_logreg): serve it from one place`,
      `${clash}:4 models[1].qualified_name: model 'named' is also in the model repository (${other}/named): serve it from one place`,
    ]);
  });

  it('the modelRepository load option replaces the key', () => {
    const root = repository({ 'echo/1/model.mjs': 'export default class { predict(x) { return x; } }\n' });
    const file = writeConfig('model_repository: ./missing\nhealth: {ready_without_models: true}\n');
    assert.deepEqual(loadConfigFile(file, { modelRepository: root }).config.models.map((entry) => [entry.qualified_name, entry.runtime]), [['echo', 'module']]);
  });
});

describe('longshore validate --model-repository', () => {
  it('loads every model of the repository (an ONNX and a code model) and exits 0', async () => {
    const root = repository({ 'iris/1/model.onnx': IRIS, 'echo/2/model.ts': CODE_MODEL, 'echo/longshore.yaml': 'configuration: {greeting: hi}\n' });
    const result = await runCli(['validate', '--model-repository', root]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /2 model\(s\) loaded: echo \(2\), iris \(1\)/);
  });

  it('exits 2 naming the folder that has no model file', async () => {
    const root = repository({ 'iris/1/notes.txt': '' });
    const result = await runCli(['validate', '--model-repository', root]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /iris\/1: holds no model file: expected model\.onnx/);
  });
});
