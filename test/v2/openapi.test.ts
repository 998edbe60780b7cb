/**
 * The OpenAPI document describes the Open Inference Protocol routes: every V2 path, plain and versioned, with its path
 * parameters, request and response schemas and error statuses, in a document that stays valid OpenAPI 3.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { buildServiceFromFile, EXAMPLE_CONFIG, type TestService } from '../helpers/service.ts';
import { V2_SCHEMAS } from '../../src/http/routes/v2-schemas.ts';

type Document = ReturnType<TestService['app']['openapiDocument']>;
interface Operation {
  tags?: string[];
  summary?: string;
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

const PATHS: [string, 'get' | 'post', string[]][] = [
  ['/v2', 'get', []],
  ['/v2/health/live', 'get', []],
  ['/v2/health/ready', 'get', []],
  ['/v2/models/{name}', 'get', ['name']],
  ['/v2/models/{name}/ready', 'get', ['name']],
  ['/v2/models/{name}/infer', 'post', ['name']],
  ['/v2/models/{name}/explain', 'post', ['name']],
  ['/v2/models/{name}/versions/{version}', 'get', ['name', 'version']],
  ['/v2/models/{name}/versions/{version}/ready', 'get', ['name', 'version']],
  ['/v2/models/{name}/versions/{version}/infer', 'post', ['name', 'version']],
  ['/v2/models/{name}/versions/{version}/explain', 'post', ['name', 'version']],
];

function operation(document: Document, path: string, method: 'get' | 'post'): Operation {
  const item = document.paths[path] as Record<string, Operation> | undefined;
  assert.ok(item?.[method], `the document has ${method.toUpperCase()} ${path}`);
  return item[method] as Operation;
}

function responseSchema(op: Operation, status: number): unknown {
  const schema = op.responses[String(status)]?.content?.['application/json']?.schema;
  assert.ok(schema, `response ${status} has a JSON schema`);
  return schema;
}

describe('OpenAPI document: the V2 routes', () => {
  let service: TestService;
  let document: Document;
  before(async () => {
    service = await buildServiceFromFile(EXAMPLE_CONFIG);
    await service.app.ready();
    document = service.app.openapiDocument();
  });
  after(() => service.close());

  it('is valid OpenAPI 3.1', async () => {
    assert.equal(document.openapi, '3.1.0');
    await SwaggerParser.validate(structuredClone(document) as unknown as Parameters<typeof SwaggerParser.validate>[0]);
  });

  it('has every V2 path, plain and versioned, tagged "open inference protocol", with required path parameters', () => {
    for (const [path, method, params] of PATHS) {
      const op = operation(document, path, method);
      assert.deepEqual(op.tags, ['open inference protocol'], path);
      assert.ok(op.summary, `${path} has a summary`);
      const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path');
      assert.deepEqual(pathParams.map((p) => [p.in, p.name, p.required]), params.map((name) => ['path', name, true]), path);
      const headers = (op.parameters ?? []).filter((p) => p.in !== 'path').map((p) => [p.in, p.name, p.required]);
      assert.deepEqual(headers, path.endsWith('/infer') ? [['header', 'x-request-timeout-ms', false]] : [], `${path}: only infer takes the deadline header`);
    }
    const v2Paths = Object.keys(document.paths).filter((path) => path.startsWith('/v2')).sort();
    assert.deepEqual(v2Paths, PATHS.map(([path]) => path).sort(), 'no other V2 paths (the /v2/ alias is hidden)');
  });

  it('documents the bodies of the metadata, health and readiness responses', () => {
    assert.deepEqual(responseSchema(operation(document, '/v2', 'get'), 200), V2_SCHEMAS.serverMetadata);
    assert.deepEqual((V2_SCHEMAS.serverMetadata as { required: readonly string[] }).required, ['name', 'version', 'extensions']);
    assert.deepEqual(V2_SCHEMAS.error.required, ['error']);
    assert.deepEqual(V2_SCHEMAS.modelMetadata.required, ['name', 'versions', 'platform', 'inputs', 'outputs']);
    assert.deepEqual(responseSchema(operation(document, '/v2/health/live', 'get'), 200), V2_SCHEMAS.live);
    const ready = operation(document, '/v2/health/ready', 'get');
    assert.deepEqual(responseSchema(ready, 200), V2_SCHEMAS.ready);
    assert.deepEqual(responseSchema(ready, 503), V2_SCHEMAS.error);
    for (const prefix of ['/v2/models/{name}', '/v2/models/{name}/versions/{version}']) {
      const metadata = operation(document, prefix, 'get');
      assert.deepEqual(responseSchema(metadata, 200), V2_SCHEMAS.modelMetadata);
      const modelReady = operation(document, `${prefix}/ready`, 'get');
      assert.deepEqual(responseSchema(modelReady, 200), V2_SCHEMAS.modelReady);
      for (const status of [404, 503]) {
        assert.deepEqual(responseSchema(metadata, status), V2_SCHEMAS.error, `${prefix} ${status}`);
        assert.deepEqual(responseSchema(modelReady, status), V2_SCHEMAS.error, `${prefix}/ready ${status}`);
      }
    }
  });

  it('documents the infer request and response, and every error status as {"error"}', () => {
    for (const path of ['/v2/models/{name}/infer', '/v2/models/{name}/versions/{version}/infer']) {
      const infer = operation(document, path, 'post');
      const request = infer.requestBody?.content['application/json']?.schema;
      assert.ok(request, `${path} documents its request body`);
      assert.deepEqual(request.required, ['inputs']);
      assert.match(String(request.description), /Inference-Header-Content-Length/);
      const inputs = (request.properties as Record<string, { items: { required: string[]; properties: Record<string, unknown> } }>).inputs;
      assert.deepEqual(inputs?.items.required, ['name', 'shape', 'datatype']);
      assert.ok(inputs?.items.properties.parameters, 'inputs document parameters.binary_data_size');
      assert.deepEqual(responseSchema(infer, 200), V2_SCHEMAS.inferResponse);
      for (const status of [400, 404, 500, 503]) assert.deepEqual(responseSchema(infer, status), V2_SCHEMAS.error, `${path} ${status}`);
    }
  });

  it('serves the same V2 paths at /openapi.json', async () => {
    const served = (await service.app.inject({ url: '/openapi.json' })).json<Document>();
    for (const [path] of PATHS) assert.ok(path in served.paths, path);
  });
});
