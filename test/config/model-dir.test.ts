/**
 * config/model-dir.ts and `--model-dir`: the ONNX file(s) of a directory laid out as KServe's storage initializer does
 * (/mnt/models/model.onnx, a Triton-style tree, or the file itself), named by --model-name or the file name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { modelDirEntries, modelDirFromFlags } from '../../src/config/model-dir.ts';
import { tempDir, thrownConfigError } from '../helpers/service.ts';

const BIN = fileURLToPath(new URL('../../bin/longshore.js', import.meta.url));
const IRIS = fileURLToPath(new URL('../fixtures/onnx/iris_logreg.onnx', import.meta.url));

/** A temp directory holding empty files at the given relative paths. */
function tree(...files: string[]): string {
  const root = tempDir();
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '');
  }
  return root;
}

function entries(dir: string, name?: string) {
  return modelDirEntries(dir, name, '/').models.map((model) => model.entry);
}

describe('modelDirEntries', () => {
  it('names the one .onnx file of a directory after --model-name (KServe {{.Name}}), else after the file', () => {
    const root = tree('model.onnx', 'README.md');
    assert.deepEqual(entries(root, 'iris'), [{ qualified_name: 'iris', model_path: join(root, 'model.onnx') }]);
    assert.deepEqual(entries(root), [{ qualified_name: 'model', model_path: join(root, 'model.onnx') }]);
  });

  it('serves a path that is itself a file (a pvc:// URI naming a file is mounted there)', () => {
    const root = tree('weights.onnx');
    const file = join(root, 'weights.onnx');
    assert.deepEqual(entries(file, 'iris'), [{ qualified_name: 'iris', model_path: file }]);
    assert.deepEqual(entries(file), [{ qualified_name: 'weights', model_path: file }]);
  });

  it('resolves a relative directory against cwd and labels entries with the flag', () => {
    const root = tree('models/a.onnx');
    const result = modelDirEntries('models', undefined, root);
    assert.deepEqual(result.models, [{ label: `--model-dir models (${join(root, 'models/a.onnx')})`, entry: { qualified_name: 'a', model_path: join(root, 'models/a.onnx') } }]);
  });

  it('serves every .onnx file of the directory under its file name, in name order, and warns that --model-name is unused', () => {
    const root = tree('b.onnx', 'a.ONNX', 'sub/c.onnx');
    const result = modelDirEntries(root, 'x', '/');
    assert.deepEqual(result.models.map((model) => model.entry.qualified_name), ['a', 'b']);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0] ?? '', /--model-name x is not used: .* holds 2 \.onnx files/);
  });

  it('looks below the directory when it holds no .onnx file itself (Triton-style iris/1/model.onnx), skipping hidden directories', () => {
    const root = tree('iris/1/model.onnx', '.cache/other.onnx', 'iris/config.pbtxt');
    assert.deepEqual(entries(root, 'iris'), [{ qualified_name: 'iris', model_path: join(root, 'iris/1/model.onnx') }]);
  });

  it('follows symbolic links, as Kubernetes volumes use them', () => {
    const root = tree('data/real.onnx');
    const linked = tempDir();
    symlinkSync(join(root, 'data/real.onnx'), join(linked, 'model.onnx'));
    assert.deepEqual(entries(linked, 'm'), [{ qualified_name: 'm', model_path: join(linked, 'model.onnx') }]);
  });

  it('is a ConfigError naming the path when it does not exist or holds no .onnx file', () => {
    const missing = thrownConfigError(() => modelDirEntries('/no/such/models', 'x', '/'));
    assert.match(missing.message, /^--model-dir \/no\/such\/models does not exist$/);
    const root = tree('README.md', 'sub/notes.txt');
    const empty = thrownConfigError(() => modelDirEntries(root, 'x', '/'));
    assert.equal(empty.message, `--model-dir ${root} holds no .onnx file (searched it and its subdirectories)`);
  });

  it('is a ConfigError saying what to name for a path that is neither a directory nor a file', () => {
    const device = thrownConfigError(() => modelDirEntries('/dev/null', 'x', '/'));
    assert.equal(device.message, '--model-dir /dev/null is neither a directory nor a file: name the directory holding the .onnx file(s), or the .onnx file itself');
  });

  it('is a ConfigError when two files below the directory would get the same name', () => {
    const root = tree('a/1/model.onnx', 'b/1/model.onnx');
    const error = thrownConfigError(() => modelDirEntries(root, undefined, '/'));
    assert.match(error.message, /several \.onnx files with the same name: 'model' \(a\/1\/model\.onnx, b\/1\/model\.onnx\)/);
  });
});

describe('modelDirFromFlags', () => {
  it('is undefined without --model-dir, and refuses --model-name alone', () => {
    assert.equal(modelDirFromFlags({}, '/'), undefined);
    assert.match(thrownConfigError(() => modelDirFromFlags({ modelName: 'iris' }, '/')).message, /--model-name iris needs --model-dir/);
  });

  it('reads both flags', () => {
    const root = tree('model.onnx');
    assert.deepEqual(modelDirFromFlags({ modelDir: root, modelName: 'iris' }, '/')?.models.map((m) => m.entry.qualified_name), ['iris']);
  });
});

describe('longshore validate --model-dir', () => {
  const cwd = tempDir();
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'validate', ...args], { cwd, encoding: 'utf8', timeout: 30_000, env: { ...process.env, LONGSHORE_CONFIG: '' } });

  it('loads the model of a KServe-style /mnt/models directory under --model-name', () => {
    const models = tempDir();
    copyFileSync(IRIS, join(models, 'model.onnx'));
    const result = run('--model-dir', models, '--model-name', 'iris');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /1 model\(s\) loaded: iris \(1\)/);
  });

  it('exits 2 naming a missing or empty directory', () => {
    const missing = run('--model-dir', './nowhere');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--model-dir \.\/nowhere \(.*nowhere\) does not exist/);
    const empty = run('--model-dir', tempDir(), '--model-name', 'x');
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /holds no \.onnx file/);
  });
});
