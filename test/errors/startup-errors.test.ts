/**
 * Errors that stop a model (or the whole config) before it serves anything:
 * - config/load.ts: a config path that cannot be read; entries mixing class_path and model_path;
 * - model/served-model.ts #compileOne: an input_schema on a JSON Schema draft longshore does not know;
 * - model/registry.ts resolveMetadata: a class whose qualified_name is missing or unusable in a URL;
 * - runtimes/module.ts importModelClass: a model file that does not parse, one whose top level throws, and a `.js`
 *   file written with `export` that Node loads as CommonJS (the "type": "module" hint).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createService } from '../../src/service.ts';
import { runCli } from '../helpers/cli.ts';
import { buildService, configYaml, fixture, silentLogger, tempDir, thrownConfigError, writeConfig } from '../helpers/service.ts';

/** The ConfigError `promise` rejects with. */
async function rejectedConfigError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

/** The one problem of the ConfigError that creating the registry of `models` (config written in `dir`) fails with. */
async function onlyProblem(dir: string, models: Record<string, unknown>[]): Promise<{ path: string; message: string }> {
  const error = await rejectedConfigError(createService(loadConfigFile(writeConfig(configYaml(models), { dir })), silentLogger()));
  assert.equal(error.details.length, 1, error.message);
  return error.details[0] as { path: string; message: string };
}

/** A model class with a syntax error on line 4 (an unclosed object literal). The comment keeps every file unique. */
function brokenSource(dir: string, typed: boolean): string {
  return [
    `// written for a test in ${dir}`,
    'export class Broken {',
    `  predict(input${typed ? ': unknown' : ''}) {`,
    '    return { input ;',
    '  }',
    '}',
    '',
  ].join('\n');
}

describe('loadConfigFile on a path it cannot read', () => {
  it('is a ConfigError naming the path when the path is a directory', () => {
    const dir = join(tempDir(), 'longshore.yaml');
    mkdirSync(dir);
    const error = thrownConfigError(() => loadConfigFile(dir));
    assert.equal(error.message, `cannot read config file ${dir}: EISDIR: illegal operation on a directory, read`);
    assert.equal(error.status, 500);
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'EISDIR');
  });

  it('is a ConfigError naming the path when the file does not exist', () => {
    const file = join(tempDir(), 'missing.yaml');
    const error = thrownConfigError(() => loadConfigFile(file));
    assert.match(error.message, /^cannot read config file .*missing\.yaml: ENOENT: no such file or directory/);
    assert.ok(error.message.includes(file), error.message);
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
  });
});

describe('model entries that mix class_path and model_path', () => {
  /** The problems of a config whose `models` are the given YAML lines. */
  function entryProblems(...lines: string[]): { file: string; error: ConfigError } {
    const file = writeConfig(['models:', ...lines, ''].join('\n'));
    return { file, error: thrownConfigError(() => loadConfigFile(file)) };
  }

  it('refuses runtime: module with both class_path and model_path, at the model_path line', () => {
    const { file, error } = entryProblems('  - runtime: module', '    class_path: ./model.ts#Model', '    model_path: ./model.onnx');
    assert.deepEqual(error.details, [
      {
        path: 'models[0].model_path',
        message: `${file}:4 models[0].model_path: give either class_path (a TS/JS model) or model_path (an ONNX file), not both`,
      },
    ]);
    assert.equal(error.message, `invalid configuration in ${file}:\n  ${error.details[0]?.message}`);
  });

  it('refuses class_path on an entry that is ONNX because it names a model_path', () => {
    const { file, error } = entryProblems('  - model_path: ./model.onnx', '    class_path: ./model.ts#Model');
    assert.deepEqual(error.details, [
      {
        path: 'models[0].class_path',
        message: `${file}:3 models[0].class_path: an ONNX model (model_path / runtime: onnx) takes no class_path`,
      },
    ]);
  });

  it('refuses class_path on an explicit runtime: onnx entry', () => {
    const { file, error } = entryProblems(
      '  - runtime: onnx',
      '    model_path: ./model.onnx',
      '    class_path: ./model.ts#Model',
    );
    assert.deepEqual(
      error.details.map((d) => d.message),
      [`${file}:4 models[0].class_path: an ONNX model (model_path / runtime: onnx) takes no class_path`],
    );
  });

  it('reports both mistakes of one file, each at its own entry and line', () => {
    const { file, error } = entryProblems(
      '  - class_path: ./ok.ts#Ok',
      '  - runtime: module',
      '    model_path: ./a.onnx',
      '    class_path: ./a.ts#A',
      '  - model_path: ./b.onnx',
      '    class_path: ./b.ts#B',
    );
    assert.deepEqual(
      error.details.map((d) => d.message),
      [
        `${file}:4 models[1].model_path: give either class_path (a TS/JS model) or model_path (an ONNX file), not both`,
        `${file}:7 models[2].class_path: an ONNX model (model_path / runtime: onnx) takes no class_path`,
      ],
    );
  });
});

describe('an input_schema whose $schema longshore does not know', () => {
  const DRAFT = fixture('schema-draft.ts', 'SchemaDraftModel');

  it('fails the startup with a ConfigError that names the model, the schema and the drafts to use', async () => {
    const error = await rejectedConfigError(buildService(configYaml([{ class_path: DRAFT }]), { load: false }));
    assert.equal(error.status, 500);
    assert.equal(error.details.length, 1);
    const [detail] = error.details;
    assert.equal(detail?.path, 'models[0].class_path');
    assert.match(detail?.message ?? '', /:\d+ models\[0\]\.class_path: input_schema of model 'schema_draft' is not a valid JSON Schema: /);
    assert.match(detail?.message ?? '', /no schema with key or ref "http:\/\/json-schema\.org\/draft-04\/schema#"/);
    assert.ok(
      detail?.message.endsWith(
        ' (its $schema is not one longshore knows: use http://json-schema.org/draft-07/schema#, or a 2019-09 or 2020-12 URI)',
      ),
      detail?.message,
    );
    assert.match(error.message, /^invalid configuration in .*longshore\.yaml:\n {2}.*its \$schema is not one longshore knows/);
  });

  it('gives the same hint for a made-up $schema URI', async () => {
    const yaml = configYaml([{ class_path: DRAFT, configuration: { schema_uri: 'https://example.com/my-draft' } }]);
    const error = await rejectedConfigError(buildService(yaml, { load: false }));
    assert.match(error.details[0]?.message ?? '', /no schema with key or ref "https:\/\/example\.com\/my-draft".*its \$schema is not one longshore knows/);
  });

  it('accepts the draft-07 URI the hint recommends', async () => {
    const yaml = configYaml([{ class_path: DRAFT, configuration: { schema_uri: 'http://json-schema.org/draft-07/schema#' } }]);
    const service = await buildService(yaml);
    try {
      assert.equal(service.registry.require('schema_draft').state, 'ready');
    } finally {
      await service.close();
    }
  });
});

describe('a model class without a usable qualified_name', () => {
  it('is a ConfigError when neither the class nor the entry names the model', async () => {
    const error = await rejectedConfigError(buildService(configYaml([{ class_path: fixture('unnamed.ts', 'NamelessModel') }]), { load: false }));
    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'models[0].class_path');
    assert.match(
      error.details[0]?.message ?? '',
      /:\d+ models\[0\]\.class_path: the model has no qualified_name; set it on the class or as qualified_name in this entry$/,
    );
  });

  it("is a ConfigError when the class's qualified_name is not usable in a URL", async () => {
    const error = await rejectedConfigError(buildService(configYaml([{ class_path: fixture('unnamed.ts', 'SpacedNameModel') }]), { load: false }));
    assert.equal(error.details.length, 1);
    assert.match(
      error.details[0]?.message ?? '',
      /models\[0\]\.class_path: qualified_name "iris model\/v2" is not usable in a URL; use letters, digits, '_', '\.' or '-'$/,
    );
  });

  it('reports every unnamed entry of the file at once, each with its own line', async () => {
    const yaml = [
      'models:',
      `  - class_path: ${fixture('unnamed.ts', 'NamelessModel')}`,
      `  - class_path: ${fixture('echo.ts', 'EchoModel')}`,
      `  - class_path: ${fixture('unnamed.ts', 'SpacedNameModel')}`,
      '',
    ].join('\n');
    const error = await rejectedConfigError(buildService(yaml, { load: false }));
    assert.deepEqual(
      error.details.map((d) => d.path),
      ['models[0].class_path', 'models[2].class_path'],
    );
    assert.match(error.details[0]?.message ?? '', /:2 models\[0\]\.class_path: the model has no qualified_name/);
    assert.match(error.details[1]?.message ?? '', /:4 models\[2\]\.class_path: qualified_name "iris model\/v2" is not usable in a URL/);
  });

  it('is served under a qualified_name the entry gives', async () => {
    const yaml = configYaml([
      { class_path: fixture('unnamed.ts', 'NamelessModel'), qualified_name: 'named_here' },
      { class_path: fixture('unnamed.ts', 'SpacedNameModel'), qualified_name: 'iris-model.v2' },
    ]);
    const service = await buildService(yaml);
    try {
      assert.deepEqual(
        service.registry.list().map((m) => [m.name, m.state]),
        [
          ['named_here', 'ready'],
          ['iris-model.v2', 'ready'],
        ],
      );
    } finally {
      await service.close();
    }
  });
});

describe('a model file that cannot be imported', () => {
  it('reports a TypeScript syntax error with the specifier, the file and the line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'broken.ts'), brokenSource(dir, true));
    const problem = await onlyProblem(dir, [{ class_path: './broken.ts#Broken' }]);
    assert.equal(problem.path, 'models[0].class_path');
    assert.match(problem.message, /:\d+ models\[0\]\.class_path: cannot import '\.\/broken\.ts': Transform failed with 1 error:\n/);
    assert.ok(problem.message.includes(`${join(dir, 'broken.ts')}:4:`), problem.message);
  });

  it('reports a JavaScript syntax error with the specifier and the parser message', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'broken.mjs'), brokenSource(dir, false));
    const problem = await onlyProblem(dir, [{ class_path: './broken.mjs#Broken' }]);
    assert.equal(problem.path, 'models[0].class_path');
    assert.match(problem.message, /models\[0\]\.class_path: cannot import '\.\/broken\.mjs': Unexpected token ';'$/);
  });

  it('reports the error a module throws at its top level, naming the specifier', async () => {
    const classPath = fixture('throws-on-import.ts', 'ThrowsOnImportModel');
    const problem = await onlyProblem(tempDir(), [{ class_path: classPath }]);
    const specifier = fixture('throws-on-import.ts');
    assert.equal(problem.path, 'models[0].class_path');
    assert.ok(
      problem.message.endsWith(`models[0].class_path: cannot import '${specifier}': lookup table /models/labels.json is missing`),
      problem.message,
    );
  });
});

describe('a .js model written with export in a CommonJS package', () => {
  // Under `node --import tsx` (this test process) tsx's CommonJS hook compiles the file and the import succeeds, so the
  // command runs in a child process. A package.json without "type" would load it (Node detects the module syntax);
  // "type": "commonjs" fails: "Unexpected token 'export'" from the packaged command (plain Node), "require() ES Module"
  // from the development command (tsx's ESM hooks); both end with the hint.
  it('makes `longshore validate` exit 2 with the import error and the "type": "module" hint', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
    writeFileSync(
      join(dir, 'model.js'),
      [
        'export class PlainModel {',
        "  qualified_name = 'plain';",
        "  display_name = 'Plain';",
        "  description = '';",
        "  version = '1';",
        "  input_schema = { type: 'object' };",
        "  output_schema = { type: 'object' };",
        '  predict(input) { return input; }',
        '}',
        '',
      ].join('\n'),
    );
    const file = writeConfig('models:\n  - class_path: ./model.js#PlainModel\n', { dir });
    const result = await runCli(['validate', '--config', file], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    // Node may print its own warning about the module type first.
    assert.ok(result.stderr.includes(`invalid configuration in ${file}:\n`), result.stderr);
    assert.match(result.stderr, /:2 models\[0\]\.class_path: cannot import '\.\/model\.js': .*(require\(\) ES Module|Unexpected token 'export')/);
    assert.ok(
      result.stderr.includes(
        ' (the file uses import/export but is loaded as CommonJS: add "type": "module" to the nearest package.json, or name it .mts/.mjs)\n',
      ),
      result.stderr,
    );
  });
});
