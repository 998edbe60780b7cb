/**
 * Each protocol's plugin answers errors in its own body, set in its fastify scope (src/http/error-handler.ts): V2
 * routes `{"error": message}`, REST routes longshore's `{type, message, details}`. A request no route takes has no
 * plugin's scope, so its body goes by its path: a wrong method on a /v2 path with a body that does not parse is still
 * answered in the V2 body (found by the long fuzz run).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildService, configYaml, REPO_ROOT, type TestService } from '../helpers/service.ts';

const IRIS_PATH = join(REPO_ROOT, 'examples/onnx/iris_logreg.onnx');

describe('error bodies by protocol scope', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(configYaml([{ model_path: IRIS_PATH, qualified_name: 'iris' }]));
  });
  after(() => service.close());

  const send = (method: 'POST' | 'PUT' | 'OPTIONS', url: string, payload: string) =>
    service.app.inject({ method, url, payload, headers: { 'content-type': 'application/json' } });

  it('a V2 route answers a bad body in the V2 body', async () => {
    const response = await send('POST', '/v2/models/iris/infer', 'garbage');
    assert.equal(response.statusCode, 400);
    assert.deepEqual(Object.keys(response.json() as object), ['error']);
  });

  it('a REST route answers a bad body in the REST body', async () => {
    const response = await send('POST', '/api/models/iris/prediction', 'garbage');
    assert.equal(response.statusCode, 400);
    assert.equal((response.json() as { type: string }).type, 'MalformedRequestError');
  });

  it('a /v2 path no route takes answers an unparsable JSON body in the V2 body, whatever the method', async () => {
    for (const [method, url] of [
      ['POST', '/v2/models/iris/ready'],
      ['PUT', '/v2/models/iris/versions/1/infer'],
      ['OPTIONS', '/v2/models/iris/explain'],
    ] as const) {
      const response = await send(method, url, 'garbage');
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${method} ${url}: ${response.statusCode}`);
      const body = response.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['error'], `${method} ${url}: ${response.body}`);
      assert.equal(typeof body.error, 'string');
    }
  });

  it('a path outside /v2 that no route takes answers in the REST body', async () => {
    const response = await send('PUT', '/api/models/iris/prediction', 'garbage');
    assert.ok(response.statusCode >= 400 && response.statusCode < 500);
    assert.ok(typeof (response.json() as { type?: unknown }).type === 'string', response.body);
  });
});
