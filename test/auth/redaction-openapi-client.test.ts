/**
 * Keys never reach the log (a real `longshore serve`, access log on, level debug, refused and accepted requests with
 * both headers); the OpenAPI document declares the schemes and each operation's scope; the client's `apiKey` option.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LongshoreClient, LongshoreClientError } from '../../src/client/index.ts';
import { startServe } from '../helpers/cli.ts';
import { startServerFromFile } from '../helpers/server.ts';
import { buildService, irisConfigYaml, writeConfig } from '../helpers/service.ts';

const PREDICT = 'predict-key-5f1c7e0a9b';
const READ = 'read-key-83d2aa41c6';
const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const ENV = { LONGSHORE_TEST_PREDICT: PREDICT, LONGSHORE_TEST_READ: READ };
const AUTH_YAML = `auth:\n  keys:\n    - {env: LONGSHORE_TEST_PREDICT, scopes: [predict]}\n    - {env: LONGSHORE_TEST_READ, scopes: [read]}\n`;

test('with the access log on at debug level, no key value appears in the output', async () => {
  const file = writeConfig(`${irisConfigYaml()}logging: {level: debug, access_log: true}\n${AUTH_YAML}`);
  const serve = await startServe(['--config', file, '--port', '0'], { env: ENV });
  try {
    const url = `${serve.url}/api/models/iris_model/prediction`;
    const post = (headers: Record<string, string>, body = JSON.stringify(IRIS)) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    assert.equal((await post({ authorization: `Bearer ${PREDICT}` })).status, 200);
    assert.equal((await post({ 'x-api-key': PREDICT })).status, 200);
    assert.equal((await post({ authorization: `Bearer ${READ}` })).status, 403);
    assert.equal((await post({ 'x-api-key': `${PREDICT}-wrong` })).status, 401);
    assert.equal((await post({ authorization: `Bearer ${PREDICT}` }, '{bad json')).status, 400);
    const responses = await fetch(`${serve.url}/api/nothing`, { headers: { 'x-api-key': READ, authorization: `Bearer ${PREDICT}` } });
    assert.equal(responses.status, 404);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const output = JSON.stringify(serve.lines) + serve.stderr();
    assert.ok(serve.lines.filter((line) => line.msg === 'request completed').length >= 6, output.slice(0, 2000));
    for (const secret of [PREDICT, READ]) assert.ok(!output.includes(secret), `the log holds ${secret}`);
  } finally {
    await serve.stop();
  }
});

interface Operation {
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
}

test('the OpenAPI document declares the schemes and each operation its scope; health stays open', async () => {
  process.env.LONGSHORE_TEST_PREDICT = PREDICT;
  process.env.LONGSHORE_TEST_READ = READ;
  const service = await buildService(`${irisConfigYaml()}${AUTH_YAML}`);
  try {
    const response = await service.app.inject({ method: 'GET', url: '/openapi.json', headers: { 'x-api-key': READ } });
    const document = response.json() as { components: { securitySchemes: Record<string, Record<string, string>> }; paths: Record<string, Record<string, Operation>> };
    assert.deepEqual(Object.keys(document.components.securitySchemes), ['bearer', 'apiKey']);
    assert.equal(document.components.securitySchemes.bearer!.scheme, 'bearer');
    assert.deepEqual([document.components.securitySchemes.apiKey!.in, document.components.securitySchemes.apiKey!.name], ['header', 'x-api-key']);
    const security = (path: string, method: string) => document.paths[path]?.[method]?.security;
    assert.deepEqual(security('/api/models/iris_model/prediction', 'post'), [{ bearer: ['predict'] }, { apiKey: ['predict'] }]);
    assert.deepEqual(security('/api/models', 'get'), [{ bearer: ['read'] }, { apiKey: ['read'] }]);
    assert.deepEqual(security('/v2/models/{name}/infer', 'post'), [{ bearer: ['predict'] }, { apiKey: ['predict'] }]);
    assert.deepEqual(security('/v2/models/{name}/versions/{version}/ready', 'get'), [{ bearer: ['read'] }, { apiKey: ['read'] }]);
    assert.deepEqual(security('/metrics', 'get'), [{ bearer: ['metrics'] }, { apiKey: ['metrics'] }]);
    assert.deepEqual(security('/api/health/ready', 'get'), []);
    assert.deepEqual(security('/v2/health/live', 'get'), []);
    assert.ok(document.paths['/api/models/iris_model/prediction']!.post!.responses!['401']);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) assert.ok(Array.isArray(operation.security), `${method} ${path} has no security`);
    }
  } finally {
    await service.close();
    delete process.env.LONGSHORE_TEST_PREDICT;
    delete process.env.LONGSHORE_TEST_READ;
  }
});

test('the client sends apiKey as Authorization: Bearer', async () => {
  process.env.LONGSHORE_TEST_PREDICT = PREDICT;
  process.env.LONGSHORE_TEST_READ = READ;
  const server = await startServerFromFile(writeConfig(`${irisConfigYaml()}${AUTH_YAML}`));
  try {
    const predictor = new LongshoreClient(server.url, { apiKey: PREDICT, timeoutMs: 10_000 });
    const output = await predictor.predict<{ species: string }>('iris_model', IRIS);
    assert.equal(output.species, 'setosa');
    const error = await predictor.listModels().then(
      () => assert.fail('listModels needs read'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof LongshoreClientError);
    assert.equal(error.status, 403);
    assert.equal(error.type, 'ForbiddenError');
    const reader = new LongshoreClient(server.url, { apiKey: READ });
    assert.equal((await reader.listModels()).length, 1);
    const anonymous = await new LongshoreClient(server.url).listModels().catch((failure: unknown) => failure);
    assert.equal((anonymous as LongshoreClientError).status, 401);
    assert.throws(() => new LongshoreClient(server.url, { apiKey: '' }), TypeError);
  } finally {
    await server.close();
    delete process.env.LONGSHORE_TEST_PREDICT;
    delete process.env.LONGSHORE_TEST_READ;
  }
});
