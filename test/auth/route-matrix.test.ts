/**
 * The auth matrix on every route group, REST and V2: no key 401, a wrong key 401, a key without the route's scope 403,
 * the right key passes; both headers; health probes open (and protected with open_health: false); a refused request's
 * body is never read; every route of the app has a scope.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { routeAccess } from '../../src/http/auth.ts';
import { buildService, irisConfigYaml, tempDir, type TestService } from '../helpers/service.ts';
import { routeTemplates } from './route-templates.ts';

const KEYS = { predict: 'k-predict-0123456789abcdef', read: 'k-read-0123456789abcdef', metrics: 'k-metrics-0123456789abcdef' };
const ENV_VARIABLE = 'LONGSHORE_TEST_AUTH_READ_KEY';

/** The config of these tests: the predict and metrics keys from files, the read key from a variable. */
function authYaml(extra = ''): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'predict.key'), `${KEYS.predict}\n`);
  writeFileSync(join(dir, 'metrics.key'), KEYS.metrics);
  process.env[ENV_VARIABLE] = KEYS.read;
  return (
    `${irisConfigYaml()}auth:\n  keys:\n` +
    `    - {file: ${join(dir, 'predict.key')}, scopes: [predict]}\n` +
    `    - {env: ${ENV_VARIABLE}, scopes: [read]}\n` +
    `    - {file: ${join(dir, 'metrics.key')}, scopes: [metrics, admin]}\n${extra}`
  );
}

const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const V2_INFER = { inputs: [{ name: 'sepal_length', shape: [1], datatype: 'FP64', data: [5.1] }] };

type Scope = keyof typeof KEYS;
const ROUTES: { method: 'GET' | 'POST'; url: string; scope: Scope; body?: unknown }[] = [
  { method: 'GET', url: '/api/models', scope: 'read' },
  { method: 'GET', url: '/api/models/iris_model/metadata', scope: 'read' },
  { method: 'POST', url: '/api/models/iris_model/prediction', scope: 'predict', body: IRIS },
  { method: 'POST', url: '/api/models/iris_model/predictions', scope: 'predict', body: [IRIS] },
  { method: 'POST', url: '/api/models/iris_model/score', scope: 'predict', body: { records: [IRIS] } },
  { method: 'POST', url: '/api/models/iris_model/explain', scope: 'predict', body: IRIS },
  { method: 'POST', url: '/api/models/iris_model/operations/anything', scope: 'predict', body: {} },
  { method: 'GET', url: '/api/models/iris_model/versions/1/metadata', scope: 'read' },
  { method: 'POST', url: '/api/models/iris_model/versions/1/prediction', scope: 'predict', body: IRIS },
  { method: 'POST', url: '/api/models/iris_model/versions/1/predictions', scope: 'predict', body: [IRIS] },
  { method: 'POST', url: '/api/models/iris_model/versions/1/score', scope: 'predict', body: { records: [IRIS] } },
  { method: 'POST', url: '/api/models/iris_model/versions/1/explain', scope: 'predict', body: IRIS },
  { method: 'POST', url: '/api/models/iris_model/versions/1/operations/anything', scope: 'predict', body: {} },
  { method: 'GET', url: '/v2', scope: 'read' },
  { method: 'GET', url: '/v2/models/iris_model', scope: 'read' },
  { method: 'GET', url: '/v2/models/iris_model/ready', scope: 'read' },
  { method: 'GET', url: '/v2/models/iris_model/versions/1', scope: 'read' },
  { method: 'GET', url: '/v2/models/iris_model/versions/1/ready', scope: 'read' },
  { method: 'POST', url: '/v2/models/iris_model/infer', scope: 'predict', body: V2_INFER },
  { method: 'POST', url: '/v2/models/iris_model/versions/1/infer', scope: 'predict', body: V2_INFER },
  { method: 'POST', url: '/v2/models/iris_model/versions/1/explain', scope: 'predict', body: V2_INFER },
  { method: 'GET', url: '/openapi.json', scope: 'read' },
  { method: 'GET', url: '/docs/json', scope: 'read' },
  { method: 'GET', url: '/metrics', scope: 'metrics' },
];
const HEALTH = ['/api/health', '/api/health/ready', '/api/health/startup', '/v2/health/live', '/v2/health/ready'];

function send(service: TestService, route: (typeof ROUTES)[number], headers: Record<string, string>) {
  return service.app.inject({
    method: route.method,
    url: route.url,
    headers: route.body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(route.body === undefined ? {} : { payload: JSON.stringify(route.body) }),
  });
}

/** The error's type from a REST body, or the V2 body's `error` message. */
function assertRefusal(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, url: string, status: number, type: string): void {
  assert.equal(response.statusCode, status, `${url}: ${JSON.stringify(response.json())}`);
  assert.match(String(response.headers['www-authenticate']), /^Bearer\b/, url);
  assert.ok(response.headers['x-request-id'], url);
  const body = response.json() as Record<string, unknown>;
  if (url.startsWith('/v2')) {
    assert.deepEqual(Object.keys(body), ['error'], url);
  } else {
    assert.equal(body.type, type, url);
  }
}

describe('auth on: the route matrix', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(authYaml());
  });
  after(async () => {
    await service.close();
    delete process.env[ENV_VARIABLE];
  });

  for (const route of ROUTES) {
    test(`${route.method} ${route.url} needs '${route.scope}'`, async () => {
      assertRefusal(await send(service, route, {}), route.url, 401, 'UnauthorizedError');
      const wrong = await send(service, route, { authorization: 'Bearer not-a-key' });
      assertRefusal(wrong, route.url, 401, 'UnauthorizedError');
      assert.match(String(wrong.headers['www-authenticate']), /invalid_token/);
      assertRefusal(await send(service, route, { 'x-api-key': 'not-a-key' }), route.url, 401, 'UnauthorizedError');
      for (const other of Object.keys(KEYS) as Scope[]) {
        if (other === route.scope) continue;
        const forbidden = await send(service, route, { authorization: `Bearer ${KEYS[other]}` });
        assertRefusal(forbidden, route.url, 403, 'ForbiddenError');
        assert.equal(forbidden.headers['www-authenticate'], `Bearer error="insufficient_scope", scope="${route.scope}"`);
      }
      for (const headers of [{ authorization: `Bearer ${KEYS[route.scope]}` }, { authorization: `bearer ${KEYS[route.scope]}` }, { 'x-api-key': KEYS[route.scope] }] as Record<string, string>[]) {
        const allowed = await send(service, route, headers);
        assert.ok(![401, 403].includes(allowed.statusCode), `${route.url} with ${Object.keys(headers)[0]}: ${allowed.statusCode} ${allowed.body}`);
        assert.equal(allowed.headers['www-authenticate'], undefined);
      }
    });
  }

  test('the right key gets the real answer (prediction 200, metrics 200)', async () => {
    const prediction = await send(service, ROUTES[2]!, { authorization: `Bearer ${KEYS.predict}` });
    assert.equal(prediction.statusCode, 200, prediction.body);
    const metrics = await send(service, ROUTES.at(-1)!, { 'x-api-key': KEYS.metrics });
    assert.equal(metrics.statusCode, 200);
  });

  test('health probes stay open by default', async () => {
    for (const url of HEALTH) {
      const response = await service.app.inject({ method: 'GET', url });
      assert.ok(![401, 403].includes(response.statusCode), `${url}: ${response.statusCode}`);
    }
  });

  test('another Authorization scheme (Basic) is no key: 401', async () => {
    const response = await send(service, ROUTES[0]!, { authorization: `Basic ${Buffer.from(`u:${KEYS.read}`).toString('base64')}` });
    assertRefusal(response, '/api/models', 401, 'UnauthorizedError');
  });

  test("a refused request's body is never read: malformed JSON without a key is 401, not 400", async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/models/iris_model/prediction',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    assertRefusal(response, '/api/models/iris_model/prediction', 401, 'UnauthorizedError');
    const v2 = await service.app.inject({ method: 'POST', url: '/v2/models/iris_model/infer', headers: { 'content-type': 'text/plain', 'x-api-key': KEYS.read }, payload: 'x' });
    assertRefusal(v2, '/v2/models/iris_model/infer', 403, 'ForbiddenError');
  });

  test('a URL no route matches is still 404 RouteNotFoundError (it names nothing a key protects)', async () => {
    const response = await service.app.inject({ method: 'GET', url: '/api/nothing' });
    assert.equal(response.statusCode, 404);
  });

  test('every route of the app has a scope (none falls back to admin)', () => {
    const templates = routeTemplates(service.app);
    // The versioned routes (issue 16) are predict or read like their unversioned twins, never admin.
    for (const template of ['/v2/models/:name/versions/:version/explain', '/api/models/:name/versions/:version/prediction', '/api/models/:name/versions/:version/operations/:operation', '/api/models/:name/versions/:version/metadata']) {
      assert.ok(templates.includes(template), `${template} in ${templates.join(' ')}`);
    }
    assert.ok(templates.length > 30, templates.join(' '));
    const auth = { open_health: true, open_docs: false, keys: [] };
    const unscoped = templates.filter((template) => routeAccess(template, auth) === 'admin');
    assert.deepEqual(unscoped, []);
  });
});

describe('auth.open_health: false', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(authYaml('  open_health: false\n'));
  });
  after(async () => {
    await service.close();
    delete process.env[ENV_VARIABLE];
  });

  test('health probes need the read scope', async () => {
    for (const url of HEALTH) {
      assertRefusal(await service.app.inject({ method: 'GET', url }), url, 401, 'UnauthorizedError');
      assertRefusal(await service.app.inject({ method: 'GET', url, headers: { 'x-api-key': KEYS.predict } }), url, 403, 'ForbiddenError');
      const allowed = await service.app.inject({ method: 'GET', url, headers: { 'x-api-key': KEYS.read } });
      assert.equal(allowed.statusCode, 200, `${url}: ${allowed.body}`);
    }
  });
});
