/**
 * `cors:` (docs/cors-and-tls.md): preflights answered 204 with the allow headers on REST and V2 routes, simple requests
 * from an allowed origin carry Access-Control-Allow-Origin and the exposed headers, an unlisted origin gets no CORS
 * header at all, and without `cors:` nothing changes. Also the config rules of the section.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { buildService, configYaml, fixture, thrownConfigError, writeConfig, type TestService } from '../helpers/service.ts';

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example.net';
const ECHO = { class_path: fixture('echo.ts', 'EchoModel') };
const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-expose-headers', 'access-control-allow-credentials', 'access-control-max-age'];

function corsHeadersOf(headers: Record<string, unknown>): string[] {
  return CORS_HEADERS.filter((name) => headers[name] !== undefined);
}

function preflight(service: TestService, url: string, origin: string, method = 'POST') {
  return service.app.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type,x-api-key' },
  });
}

describe('cors: with listed origins', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(configYaml([ECHO], { cors: { origins: [ALLOWED, 'http://localhost:3000'], max_age_s: 600 } }));
  });
  after(() => service.close());

  for (const url of ['/api/models/echo/prediction', '/v2/models/echo/infer', '/v2/models/echo', '/api/health/ready']) {
    it(`answers the preflight of ${url} with 204 and the allow headers`, async () => {
      const response = await preflight(service, url, ALLOWED);
      assert.equal(response.statusCode, 204);
      assert.equal(response.body, '');
      assert.equal(response.headers['access-control-allow-origin'], ALLOWED);
      assert.equal(response.headers['access-control-allow-methods'], 'GET, HEAD, POST');
      const allowed = String(response.headers['access-control-allow-headers']).split(', ');
      for (const header of ['content-type', 'authorization', 'x-api-key', 'x-request-id', 'x-request-timeout-ms', 'inference-header-content-length']) {
        assert.ok(allowed.includes(header), `${header} missing from ${allowed.join(', ')}`);
      }
      assert.equal(response.headers['access-control-max-age'], '600');
      assert.equal(response.headers['access-control-allow-credentials'], undefined);
      assert.match(String(response.headers.vary), /origin/i);
    });

    it(`gives no CORS header to the preflight of ${url} from an unlisted origin`, async () => {
      const response = await preflight(service, url, OTHER);
      assert.deepEqual(corsHeadersOf(response.headers), []);
      // As without cors: no route for OPTIONS, in the protocol's error format.
      assert.equal(response.statusCode, 404);
    });
  }

  it('marks a REST prediction from an allowed origin, with the exposed headers', async () => {
    const response = await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', headers: { origin: ALLOWED }, payload: { x: 2, name: 'c' } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['access-control-allow-origin'], ALLOWED);
    assert.equal(response.headers['access-control-expose-headers'], 'x-request-id, inference-header-content-length, retry-after');
    assert.deepEqual(response.json(), { doubled: 4, greeting: 'hello c' });
  });

  it('marks a V2 call from an allowed origin, errors included', async () => {
    const metadata = await service.app.inject({ method: 'GET', url: '/v2/models/echo', headers: { origin: 'http://localhost:3000' } });
    assert.equal(metadata.statusCode, 200);
    assert.equal(metadata.headers['access-control-allow-origin'], 'http://localhost:3000');
    // A page must be able to read an error's body too.
    const missing = await service.app.inject({ method: 'GET', url: '/v2/models/nope', headers: { origin: ALLOWED } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['access-control-allow-origin'], ALLOWED);
  });

  it('serves an unlisted origin and a request with no Origin as before, without CORS headers', async () => {
    for (const headers of [{ origin: OTHER }, {}]) {
      const rest = await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', headers, payload: { x: 1, name: 'o' } });
      assert.equal(rest.statusCode, 200);
      assert.deepEqual(corsHeadersOf(rest.headers), []);
      const v2 = await service.app.inject({ method: 'GET', url: '/v2/health/ready', headers });
      assert.equal(v2.statusCode, 200);
      assert.deepEqual(corsHeadersOf(v2.headers), []);
    }
  });

  it('keeps the OPTIONS route out of the OpenAPI document', () => {
    const paths = service.app.openapiDocument().paths ?? {};
    for (const [path, item] of Object.entries(paths)) assert.equal((item as Record<string, unknown>).options, undefined, path);
  });
});

describe('cors: with origin * and credentials off', () => {
  it('allows any origin with `*`, and sets methods, headers and exposed headers as configured', async (t) => {
    const service = await buildService(
      configYaml([ECHO], { cors: { origins: ['*'], methods: ['GET', 'POST', 'OPTIONS'], headers: ['content-type'], expose_headers: ['x-request-id'] } }),
    );
    t.after(() => service.close());
    const response = await preflight(service, '/v2/models/echo/infer', OTHER);
    assert.equal(response.statusCode, 204);
    assert.equal(response.headers['access-control-allow-origin'], '*');
    assert.equal(response.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
    assert.equal(response.headers['access-control-allow-headers'], 'content-type');
    assert.equal(response.headers['access-control-max-age'], undefined);
    const simple = await service.app.inject({ method: 'GET', url: '/api/models', headers: { origin: OTHER } });
    assert.equal(simple.headers['access-control-allow-origin'], '*');
    assert.equal(simple.headers['access-control-expose-headers'], 'x-request-id');
  });

  it('sends Access-Control-Allow-Credentials with credentials: true', async (t) => {
    const service = await buildService(configYaml([ECHO], { cors: { origins: [ALLOWED], credentials: true } }));
    t.after(() => service.close());
    const response = await preflight(service, '/api/models/echo/prediction', ALLOWED);
    assert.equal(response.headers['access-control-allow-credentials'], 'true');
  });
});

describe('without cors:', () => {
  it('sends no CORS header, and a preflight is not answered', async (t) => {
    const service = await buildService(configYaml([ECHO]));
    t.after(() => service.close());
    const response = await preflight(service, '/api/models/echo/prediction', ALLOWED);
    assert.deepEqual(corsHeadersOf(response.headers), []);
    assert.equal(response.statusCode, 404);
    const simple = await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', headers: { origin: ALLOWED }, payload: { x: 1, name: 'n' } });
    assert.equal(simple.statusCode, 200);
    assert.deepEqual(corsHeadersOf(simple.headers), []);
  });
});

describe('cors: config problems', () => {
  const problemsOf = (cors: unknown) => thrownConfigError(() => loadConfigFile(writeConfig(configYaml([ECHO], { cors })))).message;

  it('needs origins, each an exact origin or *', () => {
    assert.match(problemsOf({}), /cors.*origins/);
    assert.match(problemsOf({ origins: [] }), /cors\.origins/);
    assert.match(problemsOf({ origins: ['https://app.example.com/'] }), /cors\.origins\[0\]/);
    assert.match(problemsOf({ origins: ['app.example.com'] }), /cors\.origins\[0\]/);
  });

  it('refuses credentials with origin *', () => {
    assert.match(problemsOf({ origins: ['*'], credentials: true }), /cors\.credentials: .*origin `\*`/);
  });

  it('refuses an unknown key', () => {
    assert.match(problemsOf({ origins: ['*'], allow_origins: ['x'] }), /allow_origins/);
  });
});
