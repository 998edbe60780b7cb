/**
 * What Swagger UI at /docs needs from the server with auth on (docs/security.md, "Swagger UI with auth"): a browser
 * sends no key for the page, its assets or the spec fetch (/docs/json). By default they need `read`; with
 * auth.open_docs they are open, the spec still declares both schemes and each operation's scope, and the calls made
 * from the page (Try it out) still need their keys, by either scheme.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildService, irisConfigYaml, type TestService } from '../helpers/service.ts';

const KEYS = { predict: 'k-docs-predict-0123456789', read: 'k-docs-read-0123456789' };
const ENV = { predict: 'LONGSHORE_TEST_DOCS_PREDICT_KEY', read: 'LONGSHORE_TEST_DOCS_READ_KEY' };
const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

/** Every request a browser makes to show the page: the redirect, the page, its scripts and styles, the spec. */
const PAGE_REQUESTS = [
  '/',
  '/docs',
  '/docs/',
  '/docs/static/index.html',
  '/docs/static/swagger-ui.css',
  '/docs/static/index.css',
  '/docs/static/swagger-ui-bundle.js',
  '/docs/static/swagger-ui-standalone-preset.js',
  '/docs/static/swagger-initializer.js',
  '/docs/json',
  '/openapi.json',
];

function authYaml(extra = ''): string {
  process.env[ENV.predict] = KEYS.predict;
  process.env[ENV.read] = KEYS.read;
  return `${irisConfigYaml()}auth:\n  keys:\n    - {env: ${ENV.predict}, scopes: [predict]}\n    - {env: ${ENV.read}, scopes: [read]}\n${extra}`;
}

function cleanEnv(): void {
  delete process.env[ENV.predict];
  delete process.env[ENV.read];
}

describe('docs with auth on, auth.open_docs false (the default)', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(authYaml());
  });
  after(async () => {
    await service.close();
    cleanEnv();
  });

  test('a browser without a key gets 401 for the page, every asset and the spec; with a read key each loads', async () => {
    assert.equal(service.loaded.config.auth?.open_docs, false);
    for (const url of PAGE_REQUESTS) {
      const refused = await service.app.inject({ method: 'GET', url });
      assert.equal(refused.statusCode, 401, `${url}: ${refused.body}`);
      assert.match(String(refused.headers['www-authenticate']), /^Bearer/);
      const allowed = await service.app.inject({ method: 'GET', url, headers: { 'x-api-key': KEYS.read } });
      assert.ok(allowed.statusCode === 200 || allowed.statusCode === 302, `${url}: ${allowed.statusCode}`);
    }
  });
});

describe('docs with auth on, auth.open_docs true', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(authYaml('  open_docs: true\n'));
  });
  after(async () => {
    await service.close();
    cleanEnv();
  });

  test('the page, every asset and the spec load without a key', async () => {
    for (const url of PAGE_REQUESTS) {
      const response = await service.app.inject({ method: 'GET', url });
      assert.ok(response.statusCode === 200 || response.statusCode === 302, `${url}: ${response.statusCode} ${response.body.slice(0, 200)}`);
    }
    const bundle = await service.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    assert.match(String(bundle.headers['content-type']), /javascript/);
  });

  test("the spec Swagger UI fetches declares both schemes (its Authorize button) and the prediction's scope", async () => {
    for (const url of ['/docs/json', '/openapi.json']) {
      const spec = (await service.app.inject({ method: 'GET', url })).json();
      assert.deepEqual(Object.keys(spec.components.securitySchemes).sort(), ['apiKey', 'bearer'], url);
      assert.deepEqual(spec.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', description: spec.components.securitySchemes.bearer.description });
      assert.equal(spec.components.securitySchemes.apiKey.in, 'header');
      assert.equal(spec.components.securitySchemes.apiKey.name, 'x-api-key');
      assert.deepEqual(spec.paths['/api/models/iris_model/prediction'].post.security, [{ bearer: ['predict'] }, { apiKey: ['predict'] }], url);
    }
  });

  test('the calls the page makes still need their keys, as Swagger UI sends them for either scheme', async () => {
    const predict = (headers: Record<string, string>) =>
      service.app.inject({ method: 'POST', url: '/api/models/iris_model/prediction', headers: { 'content-type': 'application/json', ...headers }, payload: IRIS });
    assert.equal((await predict({})).statusCode, 401);
    assert.equal((await predict({ authorization: `Bearer ${KEYS.predict}` })).statusCode, 200);
    assert.equal((await predict({ 'x-api-key': KEYS.predict })).statusCode, 200);
    assert.equal((await predict({ authorization: `Bearer ${KEYS.read}` })).statusCode, 403);
    assert.equal((await service.app.inject({ method: 'GET', url: '/api/models' })).statusCode, 401, 'the model list still needs read');
    assert.equal((await service.app.inject({ method: 'GET', url: '/v2' })).statusCode, 401, 'V2 metadata still needs read');
  });
});
