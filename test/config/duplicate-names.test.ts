/**
 * A model name used twice is reported under the key the later entry actually has (issue 14): `qualified_name` when it
 * sets one, else `model_path` for an ONNX file (named after the file) and `class_path` for a class (named by itself).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile, nameKeyOf } from '../../src/config/load.ts';
import type { ModelEntry } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';
import { createService } from '../../src/service.ts';
import { fixture, silentLogger, writeConfig } from '../helpers/service.ts';

const IRIS_ONNX = join(import.meta.dirname, '../fixtures/onnx/iris_logreg.onnx');

async function duplicateProblem(yaml: string): Promise<string> {
  const file = writeConfig(yaml);
  const error = await createService(loadConfigFile(file), silentLogger()).then(
    () => assert.fail('expected a ConfigError'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof ConfigError, String(error));
  const lines = error.message.split('\n').filter((line) => line.includes('duplicate qualified_name'));
  assert.equal(lines.length, 1, error.message);
  return (lines[0] as string).trim().slice(file.length);
}

describe('nameKeyOf', () => {
  it('is the key the entry takes its name from', () => {
    assert.equal(nameKeyOf({ runtime: 'onnx', model_path: './a.onnx', qualified_name: 'a' } as ModelEntry), 'qualified_name');
    assert.equal(nameKeyOf({ runtime: 'onnx', model_path: './a.onnx' } as ModelEntry), 'model_path');
    assert.equal(nameKeyOf({ runtime: 'module', class_path: './a.ts#A' } as ModelEntry), 'class_path');
  });
});

describe('a duplicate model name', () => {
  it('on an ONNX entry without qualified_name is reported under model_path', async () => {
    const problem = await duplicateProblem(`models:\n  - model_path: ${IRIS_ONNX}\n  - model_path: ${IRIS_ONNX}\n`);
    assert.equal(
      problem,
      ":3 models[1].model_path: duplicate qualified_name 'iris_logreg' (also used by models[0], at the same version '1'); set a distinct qualified_name on this entry, or a distinct version to serve both side by side",
    );
  });

  it('on a class entry without qualified_name is reported under class_path', async () => {
    const echo = fixture('echo.ts', 'EchoModel');
    const problem = await duplicateProblem(`models:\n  - class_path: ${echo}\n  - class_path: ${echo}\n`);
    assert.match(problem, /^:3 models\[1\]\.class_path: duplicate qualified_name '[^']+' \(also used by models\[0\], at the same version/);
  });

  it('set by qualified_name is reported under qualified_name', async () => {
    const problem = await duplicateProblem(`models:\n  - model_path: ${IRIS_ONNX}\n    qualified_name: iris\n  - model_path: ${IRIS_ONNX}\n    qualified_name: iris\n`);
    assert.match(problem, /^:5 models\[1\]\.qualified_name: duplicate qualified_name 'iris'/);
  });
});
