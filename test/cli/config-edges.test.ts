/**
 * The config and CLI edges a new user hits (issue 14, item 8), through the real command: an ensemble whose members
 * take different inputs fails `validate`; `validate` and `openapi` print only readable lines (no JSON log line, no
 * stack); `--model` with a TypeScript or JavaScript module says what `--model` takes; a config with no models is
 * refused by `validate`, `openapi` and `serve` unless `health.ready_without_models` is true.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startServe } from '../helpers/cli.ts';
import { REPO_ROOT, tempDir, writeConfig } from '../helpers/service.ts';

const MEMBERS = join(REPO_ROOT, 'test/fixtures/graphs/members.ts');
const ZIPMAP = join(REPO_ROOT, 'test/fixtures/onnx/iris_logreg_zipmap.onnx');

const MISMATCHED_ENSEMBLE = [
  'models:',
  `  - class_path: ${MEMBERS}#FixedClassifier`,
  '    qualified_name: cat',
  '    configuration: {label: cat}',
  `  - class_path: ${MEMBERS}#Threshold`,
  '    qualified_name: th',
  '  - qualified_name: vote', // line 7
  '    graph: {kind: ensemble, members: [cat, th]}',
  '',
].join('\n');

const NO_MODELS =
  'no models configured, so the server would never be ready: add an entry under models (class_path: ./models/my-model.ts#MyModel ' +
  'for a TypeScript model, model_path: ./model.onnx for an ONNX file), or pass --model file.onnx; set health.ready_without_models: ' +
  'true to serve no model on purpose';

describe('longshore validate: an ensemble whose members take different inputs', () => {
  it('exits 2 naming the ensemble entry, the members and the fields', async () => {
    const file = writeConfig(MISMATCHED_ENSEMBLE);
    const result = await runCli(['validate', '--config', file]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      `invalid configuration in ${file}:\n  ${file}:7 models[2]: model 'vote' failed to load: ensemble 'vote': its members take different inputs: ` +
        "member 'th' requires field 'value', which member 'cat' does not take; member 'th' does not take field 'x', which member 'cat' takes. " +
        "The ensemble takes the input of its first member, 'cat', and every member of an ensemble gets the same request: give every member the same input fields\n",
    );
  });
});

describe('longshore validate and openapi: readable output only', { concurrency: true }, () => {
  const broken = () => writeConfig(`models:\n  - class_path: ${MEMBERS}#BrokenLoad\n    configuration: {message: weights file is corrupt}\n`);

  for (const command of [['validate'], ['openapi', '--output', '-']]) {
    it(`${command[0]}: a model that fails to load is one file:line problem on stderr, with no JSON log line or stack`, async () => {
      const file = broken();
      const result = await runCli([...command, '--config', file]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, `invalid configuration in ${file}:\n  ${file}:2 models[0]: model 'broken' failed to load: weights file is corrupt\n`);
    });
  }

  it('validate: a warning is one readable line naming the model', async () => {
    const result = await runCli(['validate', '--model', ZIPMAP]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'ok: <command line> is valid and 1 model(s) loaded: iris_logreg_zipmap (1)\n');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] as string, /^longshore: warning: model 'iris_logreg_zipmap': model served with a limitation: output 'output_probability' is not a tensor/);
  });
});

describe('longshore --model with a TypeScript or JavaScript module', { concurrency: true }, () => {
  const cases = [
    { command: 'serve', spec: './examples/iris/iris-model.ts', module: './examples/iris/iris-model.ts', language: 'TypeScript', classPath: './examples/iris/iris-model.ts#YourModelClass' },
    { command: 'validate', spec: 'iris=./examples/iris/iris-model.ts#IrisModel', module: './examples/iris/iris-model.ts', language: 'TypeScript', classPath: './examples/iris/iris-model.ts#IrisModel' },
    { command: 'openapi', spec: 'model.mjs', module: 'model.mjs', language: 'JavaScript', classPath: './model.mjs#YourModelClass' },
    { command: 'serve', spec: 'm=lib/model.cjs#Model', module: 'lib/model.cjs', language: 'JavaScript', classPath: './lib/model.cjs#Model' },
  ];
  for (const { command, spec, module, language, classPath } of cases) {
    it(`${command} --model ${spec}: exits 2 saying what --model takes and how to serve the module`, async () => {
      const result = await runCli([command, '--model', spec]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        `--model ${spec}: --model takes an ONNX file (--model name=file.onnx, or --model file.onnx), and ${module} is a ${language} module. ` +
          `Serve a ${language} model from a config file: list it under models as 'class_path: ${classPath}' and pass --config FILE ` +
          '(longshore init writes a project with one)\n',
      );
    });
  }
});

describe('a config with no models', { concurrency: true }, () => {
  for (const [what, yaml, at] of [
    ['an empty file', '', ' models'],
    ['models: []', 'service_title: nothing\nmodels: []\n', ':2 models'],
  ] as const) {
    for (const command of [['validate'], ['openapi', '--output', '-'], ['serve', '--port', '0']]) {
      it(`${command[0]} refuses ${what} with exit 2 and says how to add a model`, async () => {
        const file = writeConfig(yaml);
        const result = await runCli([...command, '--config', file]);
        assert.equal(result.code, 2, result.stderr);
        assert.equal(result.stdout, '');
        assert.equal(result.stderr, `invalid configuration in ${file}:\n  ${file}${at}: ${NO_MODELS}\n`);
      });
    }
  }

  it('validate accepts it with health.ready_without_models: true, and says it serves none', async () => {
    const file = writeConfig('health:\n  ready_without_models: true\n');
    const result = await runCli(['validate', '--config', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `ok: ${file} is valid and serves no model (health.ready_without_models: true)\n`);
  });

  it('serve starts with health.ready_without_models: true and is ready', async () => {
    const file = writeConfig('server:\n  port: 0\n  host: 127.0.0.1\nhealth:\n  ready_without_models: true\n');
    const server = await startServe(['--config', file], { cwd: tempDir() });
    try {
      await server.waitForLog('model loading finished');
      const ready = await fetch(`${server.url}/api/health/ready`);
      assert.equal(ready.status, 200, await ready.text());
    } finally {
      const exit = await server.stop();
      assert.equal(exit.code, 0);
    }
  });
});
