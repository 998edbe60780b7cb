/**
 * A config that serves no model (issue 14): noModelsError refuses it (the CLI exits 2) unless
 * `health.ready_without_models` is true, pointing at the `models` key when the file has one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noModelsError, parseConfig, withExtraModels } from '../../src/config/load.ts';

const FILE = '/srv/app/longshore.yaml';

describe('noModelsError', () => {
  it('refuses an empty file, a file without models and models: [], at the models key (or its parent) when there is one', () => {
    for (const [text, where] of [
      ['', `${FILE} models`],
      ['service_title: nothing\n', `${FILE}:1 models`],
      ['service_title: nothing\nmodels: []\n', `${FILE}:2 models`],
    ]) {
      const error = noModelsError(parseConfig(text as string, FILE, '/srv/app'));
      assert.ok(error, `refused: ${JSON.stringify(text)}`);
      assert.equal(error.details.length, 1);
      assert.match(error.details[0]?.message ?? '', new RegExp(`^${where}: no models configured, so the server would never be ready: add an entry under models`));
      assert.match(error.message, /set health\.ready_without_models: true to serve no model on purpose$/);
    }
  });

  it('accepts no models with health.ready_without_models: true', () => {
    assert.equal(noModelsError(parseConfig('health:\n  ready_without_models: true\n', FILE, '/srv/app')), undefined);
  });

  it('accepts a config that serves a model, from the file or from the command line', () => {
    assert.equal(noModelsError(parseConfig('models:\n  - model_path: ./a.onnx\n', FILE, '/srv/app')), undefined);
    const fromFlag = withExtraModels(parseConfig('', '<command line>', '/srv/app'), [{ label: '--model a.onnx', entry: { model_path: 'a.onnx' } }], '/srv/app');
    assert.equal(noModelsError(fromFlag), undefined);
  });
});
