/**
 * Every route of the REST API on a loaded service, through app.inject(): docs, OpenAPI, listing, metadata,
 * prediction, batch prediction, liveness, and the x-request-id header.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BatchModel } from '../fixtures/code-models/batch.ts';
import { EchoModel } from '../fixtures/code-models/echo.ts';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('REST routes', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(
      configYaml(
        [
          { class_path: fixture('echo.ts', 'EchoModel'), configuration: { greeting: 'hi' } },
          { class_path: fixture('batch.ts', 'BatchModel'), display_name: 'Squarer', description: 'Squares.', version: '7' },
          { class_path: fixture('echo.ts', 'EchoModel'), qualified_name: 'internal_echo', create_endpoint: false },
        ],
        { service_title: 'Route Test Service', version: '4.5.6' },
      ),
    );
  });
  after(() => service.close());

  it('redirects GET / to /docs', async () => {
    const response = await service.app.inject({ url: '/' });
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, '/docs');
  });

  it('serves the Swagger UI page at GET /docs', async () => {
    const response = await service.app.inject({ url: '/docs' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(response.body, /<title>Swagger UI<\/title>/);
  });

  it('serves the OpenAPI document at GET /openapi.json', async () => {
    const response = await service.app.inject({ url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    const document = response.json() as { openapi: string; info: { title: string; version: string }; paths: Record<string, unknown> };
    assert.equal(document.openapi, '3.1.0');
    assert.deepEqual({ title: document.info.title, version: document.info.version }, { title: 'Route Test Service', version: '4.5.6' });
    assert.ok('/api/models/echo/prediction' in document.paths);
    assert.ok('/api/models/batcher/predictions' in document.paths);
    assert.deepEqual(document, JSON.parse(JSON.stringify(service.app.openapiDocument())));
  });

  it('lists every model with its metadata and status at GET /api/models', async () => {
    const response = await service.app.inject({ url: '/api/models' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      models: [
        { qualified_name: 'echo', display_name: 'Echo', description: 'Doubles x and greets name.', version: '2.1.0', status: 'ready' },
        { qualified_name: 'batcher', display_name: 'Squarer', description: 'Squares.', version: '7', status: 'ready' },
        { qualified_name: 'internal_echo', display_name: 'Echo', description: 'Doubles x and greets name.', version: '2.1.0', status: 'ready' },
      ],
    });
  });

  it('describes one model with its input and output schemas at GET /api/models/{name}/metadata', async () => {
    const response = await service.app.inject({ url: '/api/models/echo/metadata' });
    assert.equal(response.statusCode, 200);
    const reference = new EchoModel({});
    assert.deepEqual(response.json(), {
      qualified_name: 'echo',
      display_name: 'Echo',
      description: 'Doubles x and greets name.',
      version: '2.1.0',
      status: 'ready',
      input_schema: reference.input_schema,
      output_schema: reference.output_schema,
      explain: false,
      operations: [],
      examples: [],
      // A code model on the main thread: its memory is not measured (docs/deployment.md, "Memory").
      memory: {
        measured: false,
        bytes: {},
        method: 'not measured: the model runs on the main thread and shares the process heap (see nodejs_heap_size_used_bytes)',
      },
    });
  });

  it('returns 404 ModelNotFoundError for the metadata of an unknown model', async () => {
    const response = await service.app.inject({ url: '/api/models/nope/metadata' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().type, 'ModelNotFoundError');
  });

  it('predicts one record at POST /api/models/{name}/prediction', async () => {
    const response = await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', payload: { x: 21, name: 'Ada' } });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.deepEqual(response.json(), { doubled: 42, greeting: 'hi Ada' });
  });

  it('predicts a batch in input order at POST /api/models/{name}/predictions', async () => {
    const inputs = [5, -1, 0, 12, 3].map((x, i) => ({ x, name: `n${i}` }));
    const response = await service.app.inject({ method: 'POST', url: '/api/models/echo/predictions', payload: inputs });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(
      response.json(),
      inputs.map((input) => ({ doubled: input.x * 2, greeting: `hi ${input.name}` })),
    );
  });

  it("hands a batch to the model's predictBatch in one call", async () => {
    const model = service.registry.require('batcher').model as BatchModel;
    const sizesBefore = model.batchSizes.length;
    const response = await service.app.inject({ method: 'POST', url: '/api/models/batcher/predictions', payload: [{ n: 4 }, { n: 2 }, { n: 3 }] });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), [
      { square: 16, via: 'predictBatch' },
      { square: 4, via: 'predictBatch' },
      { square: 9, via: 'predictBatch' },
    ]);
    assert.deepEqual(model.batchSizes.slice(sizesBefore), [3]);
  });

  it('answers an empty batch with an empty array', async () => {
    const response = await service.app.inject({ method: 'POST', url: '/api/models/echo/predictions', payload: [] });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), []);
  });

  it('rejects a batch body that is not an array with 400 SchemaValidationError', async () => {
    const response = await service.app.inject({ method: 'POST', url: '/api/models/echo/predictions', payload: { x: 1, name: 'a' } });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      type: 'SchemaValidationError',
      message: 'a batch must be a JSON array of input records',
      details: [{ path: '/', message: 'must be array' }],
    });
  });

  it('reports liveness at GET /api/health', async () => {
    const response = await service.app.inject({ url: '/api/health' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { health_status: 'HEALTHY' });
  });

  describe('a model with create_endpoint: false', () => {
    it('is listed and described', async () => {
      const listing = (await service.app.inject({ url: '/api/models' })).json() as { models: { qualified_name: string }[] };
      assert.ok(listing.models.some((m) => m.qualified_name === 'internal_echo'));
      const metadata = await service.app.inject({ url: '/api/models/internal_echo/metadata' });
      assert.equal(metadata.statusCode, 200);
      assert.equal(metadata.json().status, 'ready');
    });

    it('gives 404 ModelNotFoundError for prediction and batch prediction', async () => {
      for (const [url, payload] of [
        ['/api/models/internal_echo/prediction', { x: 1, name: 'a' }],
        ['/api/models/internal_echo/predictions', [{ x: 1, name: 'a' }]],
      ] as const) {
        const response = await service.app.inject({ method: 'POST', url, payload });
        assert.equal(response.statusCode, 404, url);
        const body = response.json() as { type: string; message: string };
        assert.equal(body.type, 'ModelNotFoundError');
        assert.match(body.message, /create_endpoint: false/);
      }
    });

    it('has no paths in the OpenAPI document', () => {
      const paths = Object.keys(service.app.openapiDocument().paths);
      assert.ok(!paths.some((path) => path.includes('internal_echo')), paths.join(', '));
    });
  });

  describe('x-request-id', () => {
    it('echoes the id the client sent', async () => {
      const response = await service.app.inject({ url: '/api/health', headers: { 'x-request-id': 'client-id.42:a/b=c' } });
      assert.equal(response.headers['x-request-id'], 'client-id.42:a/b=c');
    });

    it('generates a UUID when the client sent none', async () => {
      const first = await service.app.inject({ url: '/api/health' });
      const second = await service.app.inject({ url: '/api/health' });
      assert.match(String(first.headers['x-request-id']), UUID);
      assert.match(String(second.headers['x-request-id']), UUID);
      assert.notEqual(first.headers['x-request-id'], second.headers['x-request-id']);
    });

    it('replaces an id with unsafe characters', async () => {
      const response = await service.app.inject({ url: '/api/health', headers: { 'x-request-id': 'abc def<script>' } });
      assert.match(String(response.headers['x-request-id']), UUID);
    });

    it('replaces an id longer than 128 characters and keeps one of exactly 128', async () => {
      const huge = await service.app.inject({ url: '/api/health', headers: { 'x-request-id': 'a'.repeat(5000) } });
      assert.match(String(huge.headers['x-request-id']), UUID);
      const limit = await service.app.inject({ url: '/api/health', headers: { 'x-request-id': 'b'.repeat(128) } });
      assert.equal(limit.headers['x-request-id'], 'b'.repeat(128));
    });

    it('is set on every kind of response', async () => {
      const requests = [
        { method: 'GET', url: '/' },
        { method: 'GET', url: '/docs' },
        { method: 'GET', url: '/openapi.json' },
        { method: 'GET', url: '/api/models' },
        { method: 'GET', url: '/api/models/echo/metadata' },
        { method: 'GET', url: '/api/health/ready' },
        { method: 'GET', url: '/api/health/startup' },
        { method: 'GET', url: '/no/such/route' },
        { method: 'POST', url: '/api/models/echo/prediction', payload: { x: 1, name: 'a' } },
        { method: 'POST', url: '/api/models/echo/prediction', payload: { x: 'bad' } },
        { method: 'POST', url: '/api/models/echo/prediction', payload: '{', headers: { 'content-type': 'application/json' } },
        { method: 'POST', url: '/api/models/echo/prediction', payload: '<a/>', headers: { 'content-type': 'application/xml' } },
        { method: 'POST', url: '/api/models/nope/predictions', payload: [] },
      ] as const;
      for (const [index, request] of requests.entries()) {
        const id = `probe-${index}`;
        const response = await service.app.inject({ ...request, headers: { ...('headers' in request ? request.headers : {}), 'x-request-id': id } });
        assert.equal(response.headers['x-request-id'], id, `${request.method} ${request.url} (status ${response.statusCode})`);
      }
    });
  });
});
