/**
 * A model with `create_endpoint: false` (issue 14, item 7) is hidden on every Open Inference Protocol model route,
 * metadata and readiness included, with the 404 its infer answers: V2 metadata exists to call infer, so reporting
 * `ready: true` for a model whose infer is 404 would mislead a client. REST keeps listing and describing it (its status
 * matters to operators, docs/configuration.md) and refuses its calls, as before.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildService, configYaml, REPO_ROOT, type TestService } from '../helpers/service.ts';
import { assertError, inferJson, okJson } from './v2-helpers.ts';

const IRIS_PATH = join(REPO_ROOT, 'examples/onnx/iris_logreg.onnx');
const HIDDEN_MESSAGE = "model 'hidden' is loaded but has no prediction endpoint (create_endpoint: false in its config entry)";
const ROW = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

describe('a create_endpoint: false model over V2 and REST', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(
      configYaml([
        { model_path: IRIS_PATH, qualified_name: 'visible' },
        { model_path: IRIS_PATH, qualified_name: 'hidden', create_endpoint: false },
      ]),
    );
  });
  after(() => service.close());

  const get = (url: string) => service.app.inject({ method: 'GET', url });

  it('every V2 model route answers 404 with the message of its infer, with and without a version', async () => {
    for (const url of ['/v2/models/hidden', '/v2/models/hidden/versions/1', '/v2/models/hidden/ready', '/v2/models/hidden/versions/1/ready']) {
      assertError(await get(url), 404, HIDDEN_MESSAGE);
    }
    for (const url of ['/v2/models/hidden/infer', '/v2/models/hidden/versions/1/infer', '/v2/models/hidden/explain']) {
      assertError(await service.app.inject({ method: 'POST', url, payload: ROW }), 404, HIDDEN_MESSAGE);
    }
    // A version that is not the model's is no way around it either.
    assertError(await get('/v2/models/hidden/versions/2'), 404, HIDDEN_MESSAGE);
  });

  it('the same model served with an endpoint answers every V2 route', async () => {
    assert.equal((await get('/v2/models/visible')).statusCode, 200);
    assert.deepEqual((await get('/v2/models/visible/ready')).json(), { name: 'visible', ready: true });
    assert.equal(okJson(await inferJson(service.app, 'visible', ROW)).model_name, 'visible');
  });

  it('server readiness still counts the hidden model (it is loaded and required)', async () => {
    assert.deepEqual((await get('/v2/health/ready')).json(), { ready: true });
  });

  it('REST lists and describes the hidden model but refuses its prediction with the same message', async () => {
    const listed = (await get('/api/models')).json<{ models: { qualified_name: string; status: string }[] }>();
    assert.deepEqual(listed.models.map((model) => [model.qualified_name, model.status]), [['visible', 'ready'], ['hidden', 'ready']]);
    assert.equal((await get('/api/models/hidden/metadata')).statusCode, 200);
    const prediction = await service.app.inject({ method: 'POST', url: '/api/models/hidden/prediction', payload: { input: [5.1, 3.5, 1.4, 0.2] } });
    assert.equal(prediction.statusCode, 404);
    assert.deepEqual(prediction.json(), { type: 'ModelNotFoundError', message: HIDDEN_MESSAGE, details: [] });
  });
});
