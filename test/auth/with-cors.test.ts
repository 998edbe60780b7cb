/**
 * auth: and cors: together: a browser's preflight carries no credentials, so it is answered by CORS without a key;
 * the call that follows still needs its key and scope (docs/security.md, docs/cors-and-tls.md).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildService, irisConfigYaml, tempDir, type TestService } from '../helpers/service.ts';

const ORIGIN = 'https://app.example.com';
const KEY = 'k-predict-with-cors-0123456789';
const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

describe('auth with cors', () => {
  let service: TestService;
  before(async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'predict.key'), KEY);
    service = await buildService(
      `${irisConfigYaml()}auth:\n  keys:\n    - {file: ${join(dir, 'predict.key')}, scopes: [predict]}\ncors:\n  origins: ['${ORIGIN}']\n`,
    );
  });
  after(() => service.close());

  it('answers a preflight from an allowed origin without a key, on REST and V2', async () => {
    for (const url of ['/api/models/iris_model/prediction', '/v2/models/iris_model/infer']) {
      const response = await service.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      assert.equal(response.statusCode, 204, `${url}: ${response.body}`);
      assert.equal(response.headers['access-control-allow-origin'], ORIGIN);
    }
  });

  it('still refuses the call without a key (401, with CORS headers so the page can read why) and serves it with one', async () => {
    const refused = await service.app.inject({ method: 'POST', url: '/api/models/iris_model/prediction', headers: { origin: ORIGIN }, payload: IRIS });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['access-control-allow-origin'], ORIGIN);
    const served = await service.app.inject({
      method: 'POST',
      url: '/api/models/iris_model/prediction',
      headers: { origin: ORIGIN, authorization: `Bearer ${KEY}` },
      payload: IRIS,
    });
    assert.equal(served.statusCode, 200, served.body);
  });
});
