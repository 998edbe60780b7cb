/**
 * The model repository API under auth (server.repository_api: true): every route of it, over /v2 and /api, answers
 * 401 without a key, 403 with a predict, read or metrics key, and works with an admin key; the OpenAPI document marks
 * each of its operations admin; they are the only admin routes of the app.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { routeAccess } from '../../src/http/auth.ts';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.ts';
import { routeTemplates } from './route-templates.ts';

const KEYS = { predict: 'k-predict-0123456789abcdef', read: 'k-read-0123456789abcdef', metrics: 'k-metrics-0123456789abcdef', admin: 'k-admin-0123456789abcdef' };
type Scope = keyof typeof KEYS;
const ENV = Object.fromEntries(Object.keys(KEYS).map((scope) => [scope, `LONGSHORE_TEST_REPOSITORY_${scope.toUpperCase()}_KEY`])) as Record<Scope, string>;

const MODEL = { class_path: fixture('versioned.ts', 'VersionedModel'), qualified_name: 'm', configuration: { label: 'a' } };

/** In the order the admin key sends them: the index, then an unload, then the load that brings the model back. */
const ROUTES = [
  '/v2/repository/index',
  '/api/repository/index',
  '/v2/repository/models/m/unload',
  '/v2/repository/models/m/load',
  '/api/repository/models/m/unload',
  '/api/repository/models/m/load',
];
const TEMPLATES = ['/v2/repository/index', '/v2/repository/models/:name/load', '/v2/repository/models/:name/unload', '/api/repository/index', '/api/repository/models/:name/load', '/api/repository/models/:name/unload'];

function post(service: TestService, url: string, key?: string) {
  return service.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) }, payload: '{}' });
}

describe('auth on, repository_api on: the repository routes need admin', () => {
  let service: TestService;
  before(async () => {
    for (const scope of Object.keys(KEYS) as Scope[]) process.env[ENV[scope]] = KEYS[scope];
    const keys = (Object.keys(KEYS) as Scope[]).map((scope) => ({ env: ENV[scope], scopes: [scope] }));
    service = await buildService(configYaml([MODEL], { server: { repository_api: true }, auth: { keys } }));
  });
  after(async () => {
    await service.close();
    for (const scope of Object.keys(KEYS) as Scope[]) delete process.env[ENV[scope]];
  });

  for (const url of ROUTES) {
    test(`POST ${url}: 401 without a key, 403 with predict, read or metrics, 200 with admin`, async () => {
      const none = await post(service, url);
      assert.equal(none.statusCode, 401, none.body);
      assert.match(String(none.headers['www-authenticate']), /^Bearer\b/);
      if (url.startsWith('/v2')) assert.deepEqual(Object.keys(none.json() as object), ['error']);
      else assert.equal((none.json() as { type: string }).type, 'UnauthorizedError');
      for (const scope of ['predict', 'read', 'metrics'] as const) {
        const forbidden = await post(service, url, KEYS[scope]);
        assert.equal(forbidden.statusCode, 403, `${scope}: ${forbidden.body}`);
        assert.equal(forbidden.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="admin"');
      }
      const allowed = await post(service, url, KEYS.admin);
      assert.equal(allowed.statusCode, 200, allowed.body);
    });
  }

  test('the admin key did the work: m was unloaded and loaded again, and serves', async () => {
    const answer = await service.app.inject({ method: 'POST', url: '/api/models/m/prediction', headers: { 'x-api-key': KEYS.predict }, payload: { x: 2 } });
    assert.equal(answer.statusCode, 200, answer.body);
    assert.deepEqual(answer.json(), { label: 'a', x: 2 });
  });

  test('an admin key has only admin: it cannot predict or read', async () => {
    const predict = await service.app.inject({ method: 'POST', url: '/api/models/m/prediction', headers: { 'x-api-key': KEYS.admin }, payload: { x: 2 } });
    assert.equal(predict.statusCode, 403);
    assert.equal((await service.app.inject({ method: 'GET', url: '/v2/models/m', headers: { 'x-api-key': KEYS.admin } })).statusCode, 403);
  });

  test('the OpenAPI document marks every repository operation admin', async () => {
    const response = await service.app.inject({ method: 'GET', url: '/openapi.json', headers: { 'x-api-key': KEYS.read } });
    assert.equal(response.statusCode, 200);
    const paths = (response.json() as { paths: Record<string, Record<string, { security?: unknown; responses?: Record<string, unknown> }>> }).paths;
    const repositoryPaths = Object.keys(paths).filter((path) => path.includes('/repository/'));
    assert.equal(repositoryPaths.length, 6, repositoryPaths.join(' '));
    for (const path of repositoryPaths) {
      const operation = paths[path]!.post!;
      assert.deepEqual(operation.security, [{ bearer: ['admin'] }, { apiKey: ['admin'] }], path);
      assert.ok(operation.responses?.['403'], `${path} documents its 403`);
    }
    const others = Object.entries(paths).filter(([path]) => !path.includes('/repository/'));
    for (const [path, item] of others) {
      for (const [method, operation] of Object.entries(item)) assert.notDeepEqual(operation.security, [{ bearer: ['admin'] }, { apiKey: ['admin'] }], `${method} ${path}`);
    }
  });

  test('the repository routes are the only routes of the app that need admin', () => {
    const auth = { open_health: true, open_docs: false, keys: [] };
    const templates = routeTemplates(service.app);
    for (const template of TEMPLATES) assert.ok(templates.includes(template), `${template} in ${templates.join(' ')}`);
    assert.deepEqual(templates.filter((template) => routeAccess(template, auth) === 'admin').sort(), [...TEMPLATES].sort());
  });
});

