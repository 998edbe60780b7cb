/**
 * The `longshore` command's exit codes, spawned as `node bin/longshore.js ...`: validate, openapi and serve, with good
 * configs (0) and bad ones (2, every problem on its own line naming file, key path and line, before listening).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { runCli, startServe } from '../helpers/cli.ts';
import { EXAMPLE_CONFIG, fixture, irisConfigYaml, tempDir, writeConfig } from '../helpers/service.ts';

const GOOD = () => writeConfig(`models:\n  - class_path: ${fixture('echo.ts', 'EchoModel')}\n`);
const IRIS = writeConfig(irisConfigYaml());

/** The problem lines of a ConfigError printed by the CLI: `  file:LINE key.path: message`. */
function problemLines(stderr: string, file: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith(`  ${file}`));
}

describe('longshore validate', { concurrency: true }, () => {
  it('exits 0 and names the loaded models for a good config', async () => {
    const result = await runCli(['validate', '--config', IRIS]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `ok: ${IRIS} is valid and 1 model(s) loaded: iris_model (1.0.0)\n`);
  });

  it('exits 0 for the bundled example config', async () => {
    const result = await runCli(['validate', '--config', EXAMPLE_CONFIG]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^ok: ${EXAMPLE_CONFIG} is valid and \\d+ model\\(s\\) loaded: iris_model \\(1\\.0\\.0\\)`));
  });

  it('exits 2 listing every schema problem with its file, key path and line', async () => {
    const file = writeConfig(
      ['service_title: broken', 'verbose: true', 'server:', '  port: high', 'models:', '  - create_endpoint: false', ''].join('\n'),
    );
    const result = await runCli(['validate', '--config', file]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`^invalid configuration in ${file}:`));
    const lines = problemLines(result.stderr, file);
    assert.equal(lines.length, 3, result.stderr);
    assert.match(lines[0] ?? '', /:2 verbose: unknown key 'verbose'/);
    assert.match(lines[1] ?? '', /:4 server\.port: must be integer/);
    assert.match(lines[2] ?? '', /:6 models\[0\].*class_path/);
  });

  it('exits 2 listing every model entry problem with its file, key path and line', async () => {
    const file = writeConfig(
      [
        'models:',
        `  - class_path: ${fixture('echo.ts', 'EchoModel')}`,
        `  - class_path: ${fixture('nowhere.ts', 'Model')}`,
        `  - class_path: ${fixture('echo.ts', 'Missing')}`,
        `  - class_path: ${fixture('not-a-model.ts', 'NotAModel')}`,
        `  - class_path: ${fixture('echo.ts')}`,
        '',
      ].join('\n'),
    );
    const result = await runCli(['validate', '--config', file]);
    assert.equal(result.code, 2);
    const lines = problemLines(result.stderr, file);
    assert.equal(lines.length, 4, result.stderr);
    assert.match(lines[0] ?? '', /:3 models\[1\]\.class_path: file not found/);
    assert.match(lines[1] ?? '', /:4 models\[2\]\.class_path: .*has no export 'Missing'/);
    assert.match(lines[2] ?? '', /:5 models\[3\]\.class_path: .*is not a model/);
    assert.match(lines[3] ?? '', /:6 models\[4\]\.class_path: duplicate qualified_name 'echo'/);
  });

  it("exits 2 when a model's load() throws, naming the model and the error", async () => {
    const file = writeConfig(
      `models:\n  - class_path: ${fixture('failing-load.ts', 'FailingLoadModel')}\n    configuration:\n      message: weights are truncated\n`,
    );
    const result = await runCli(['validate', '--config', file]);
    assert.equal(result.code, 2);
    const lines = problemLines(result.stderr, file);
    assert.deepEqual(lines, [`  ${file}:2 models[0]: model 'failing' failed to load: weights are truncated`], result.stderr);
    assert.doesNotMatch(result.stdout, /^ok/);
  });

  it('exits 2 when the config file does not exist', async () => {
    const missing = join(tempDir(), 'absent.yaml');
    const result = await runCli(['validate', '--config', missing]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`config file not found: ${missing}`));
  });
});

describe('longshore openapi', { concurrency: true }, () => {
  it('writes the document as JSON for a .json output', async () => {
    const out = join(tempDir(), 'api.json');
    const result = await runCli(['openapi', '--config', IRIS, '--output', out]);
    assert.equal(result.code, 0, result.stderr);
    const document = JSON.parse(readFileSync(out, 'utf8')) as { openapi: string; components: { schemas: Record<string, unknown> }; paths: object };
    assert.equal(document.openapi, '3.1.0');
    assert.ok('iris_model_input' in document.components.schemas);
    assert.ok('iris_model_output' in document.components.schemas);
    assert.ok('/api/models/iris_model/prediction' in document.paths);
  });

  it('writes the document as YAML for a .yaml output', async () => {
    const out = join(tempDir(), 'api.yaml');
    const result = await runCli(['openapi', '--config', IRIS, '--output', out]);
    assert.equal(result.code, 0, result.stderr);
    const text = readFileSync(out, 'utf8');
    assert.ok(!text.trimStart().startsWith('{'), 'YAML, not JSON');
    const document = parseYaml(text) as { components: { schemas: Record<string, { properties?: object }> } };
    assert.deepEqual(Object.keys(document.components.schemas.iris_model_input?.properties ?? {}), [
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
    ]);
  });

  it('writes JSON to stdout for --output -', async () => {
    const result = await runCli(['openapi', '--config', IRIS, '--output', '-']);
    assert.equal(result.code, 0, result.stderr);
    const document = JSON.parse(result.stdout) as { components: { schemas: Record<string, unknown> } };
    assert.ok('iris_model_input' in document.components.schemas);
  });

  it('exits 2 and writes nothing for a bad config', async () => {
    const dir = tempDir();
    const file = writeConfig('models:\n  - class_path: 42\n', { dir });
    const result = await runCli(['openapi', '--config', file, '--output', join(dir, 'out.json')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /:2 models\[0\]\.class_path: must be string/);
    assert.throws(() => readFileSync(join(dir, 'out.json')), { code: 'ENOENT' });
  });

  it('exits 1 with one readable line, no stack, when the output cannot be written', async () => {
    const out = join(tempDir(), 'no-such-dir', 'api.json');
    const result = await runCli(['openapi', '--config', IRIS, '--output', out]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^longshore: cannot write the OpenAPI document to .*no-such-dir.*api\.json: ENOENT.*; pass --output a file in a writable directory that exists, or - for stdout\n$/);
  });
});

describe('longshore serve', { concurrency: true }, () => {
  it('exits 2 with the problems and without listening for a bad config', async () => {
    const file = writeConfig(`models:\n  - class_path: ${fixture('not-a-class.ts', 'NotAClass')}\n`);
    const result = await runCli(['serve', '--config', file, '--port', '0']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /:2 models\[0\]\.class_path: .*is not a class/);
    assert.doesNotMatch(result.stdout, /listening/);
  });

  it('exits 2 for an invalid --port', async () => {
    const result = await runCli(['serve', '--config', IRIS, '--port', 'eighty']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /must be an integer from 0 to 65535/);
  });

  it('serves a good config on --port 0, answers requests, and exits 0 on SIGTERM', async (t) => {
    const server = await startServe(['--config', EXAMPLE_CONFIG, '--port', '0', '--host', '127.0.0.1']);
    t.after(() => server.kill());
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await server.waitForLog('model loading finished');

    const ready = await fetch(`${server.url}/api/health/ready`);
    assert.equal(ready.status, 200);
    const response = await fetch(`${server.url}/api/models/iris_model/prediction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sepal_length: 6.3, sepal_width: 3.3, petal_length: 6.0, petal_width: 2.5 }),
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { label: number }).label, 2);

    const exit = await server.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(server.lines.some((line) => line.msg === 'longshore stopped'), 'it logs its shutdown');
  });

  it('takes the port from LONGSHORE_PORT', async (t) => {
    const server = await startServe(['--config', GOOD()], { env: { LONGSHORE_PORT: '0' } });
    t.after(() => server.kill());
    const health = await fetch(`${server.url}/api/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
  });
});
