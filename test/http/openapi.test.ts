/**
 * The OpenAPI document: valid OpenAPI 3.1, one pair of prediction paths per callable model with its schemas as named
 * components, every error status documented, and rebuilt when a model's schemas become known.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { BatchModel } from '../fixtures/code-models/batch.ts';
import { EchoModel } from '../fixtures/code-models/echo.ts';
import { buildService, buildServiceFromFile, configYaml, EXAMPLE_CONFIG, fixture, type TestService } from '../helpers/service.ts';

type Document = ReturnType<TestService['app']['openapiDocument']>;
type Operation = { requestBody: { content: Record<string, { schema: unknown }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };

async function assertValid(document: Document): Promise<void> {
  await SwaggerParser.validate(structuredClone(document) as unknown as Parameters<typeof SwaggerParser.validate>[0]);
}

function operation(document: Document, path: string): Operation {
  const item = document.paths[path] as { post?: Operation } | undefined;
  assert.ok(item?.post, `the document has POST ${path}`);
  return item.post;
}

describe('OpenAPI document', () => {
  let service: TestService;
  let document: Document;
  before(async () => {
    service = await buildService(
      configYaml([
        { class_path: fixture('echo.ts', 'EchoModel') },
        { class_path: fixture('batch.ts', 'BatchModel'), qualified_name: 'squares.v1' },
        { class_path: fixture('late-schema.ts', 'LateSchemaModel') },
        { class_path: fixture('failing-load.ts', 'FailingLoadModel'), required: false },
        { class_path: fixture('echo.ts', 'EchoModel'), qualified_name: 'hidden', create_endpoint: false },
      ]),
    );
    await service.app.ready();
    document = service.app.openapiDocument();
  });
  after(() => service.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    assert.equal(document.openapi, '3.1.0');
    await assertValid(document);
  });

  it("names each model's input and output schemas as <name>_input and <name>_output components", () => {
    const echo = new EchoModel({});
    const batch = new BatchModel();
    const schemas = document.components.schemas;
    assert.deepEqual(schemas.echo_input, echo.input_schema);
    assert.deepEqual(schemas.echo_output, echo.output_schema);
    assert.deepEqual(schemas['squares.v1_input'], batch.input_schema);
    assert.deepEqual(schemas['squares.v1_output'], batch.output_schema);
    assert.deepEqual(schemas.late_input, { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] });
    assert.ok('failing_input' in schemas && 'failing_output' in schemas);
  });

  it('has a prediction and a batch path per callable model, referencing its components', () => {
    for (const name of ['echo', 'squares.v1', 'late', 'failing']) {
      const single = operation(document, `/api/models/${name}/prediction`);
      assert.deepEqual(single.requestBody.content['application/json']?.schema, { $ref: `#/components/schemas/${name}_input` });
      assert.deepEqual(single.responses['200']?.content?.['application/json']?.schema, { $ref: `#/components/schemas/${name}_output` });
      const batch = operation(document, `/api/models/${name}/predictions`);
      assert.deepEqual(batch.requestBody.content['application/json']?.schema, { type: 'array', items: { $ref: `#/components/schemas/${name}_input` } });
      assert.deepEqual(batch.responses['200']?.content?.['application/json']?.schema, {
        type: 'array',
        items: { $ref: `#/components/schemas/${name}_output` },
      });
    }
  });

  it('documents 400, 404, 500 and 503 with the error body on every prediction route', () => {
    const predictionPaths = Object.keys(document.paths).filter((path) => /\/predictions?$/.test(path));
    assert.equal(predictionPaths.length, 8);
    for (const path of predictionPaths) {
      const { responses } = operation(document, path);
      for (const status of ['400', '404', '500', '503']) {
        assert.deepEqual(
          responses[status]?.content?.['application/json']?.schema,
          { $ref: '#/components/schemas/ErrorResponse' },
          `${path} documents ${status}`,
        );
      }
    }
    assert.deepEqual((document.components.schemas.ErrorResponse as { required: string[] }).required, ['type', 'message', 'details']);
  });

  it('documents the fixed routes and hides the generic prediction routes and the docs', () => {
    const paths = Object.keys(document.paths);
    for (const path of ['/api/health', '/api/health/ready', '/api/health/startup', '/api/models', '/api/models/{name}/metadata']) {
      assert.ok(paths.includes(path), `${path} is documented`);
    }
    for (const path of paths) {
      assert.ok(!path.includes('{name}/prediction'), `${path} should be hidden`);
      assert.ok(!path.startsWith('/docs'), `${path} should be hidden`);
      assert.ok(!path.includes('hidden'), `${path}: a model without endpoint has no path`);
    }
    assert.ok(!('hidden_input' in document.components.schemas));
  });

  it('serves the same document at /openapi.json', async () => {
    const response = await service.app.inject({ url: '/openapi.json' });
    assert.deepEqual(response.json(), JSON.parse(JSON.stringify(document)));
  });
});

describe('OpenAPI document before and after loading', () => {
  it('documents a model whose schemas come from load() with a placeholder, then with the real schemas', async () => {
    const service = await buildService(configYaml([{ class_path: fixture('late-schema.ts', 'LateSchemaModel') }]), { load: false });
    try {
      await service.app.ready();
      const before = service.app.openapiDocument();
      await assertValid(before);
      assert.equal((before.components.schemas.late_input as { type: string }).type, 'object');
      assert.match(String((before.components.schemas.late_input as { description?: string }).description), /once the model has loaded/);
      await service.registry.loadAll();
      const afterLoad = service.app.openapiDocument();
      assert.notEqual(afterLoad, before, 'the document is rebuilt after a state change');
      assert.deepEqual(afterLoad.components.schemas.late_input, { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] });
      await assertValid(afterLoad);
      assert.equal(service.app.openapiDocument(), afterLoad, 'the document is cached while nothing changes');
    } finally {
      await service.close();
    }
  });

  it('is valid for the iris example and names iris_model_input with the four measurements', async () => {
    const service = await buildServiceFromFile(EXAMPLE_CONFIG);
    try {
      await service.app.ready();
      const document = service.app.openapiDocument();
      await assertValid(document);
      assert.equal((document.info as { title: string }).title, 'Iris Service');
      const input = document.components.schemas.iris_model_input as { properties: Record<string, unknown>; additionalProperties: boolean };
      assert.deepEqual(Object.keys(input.properties), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
      assert.equal(input.additionalProperties, false);
      assert.ok('iris_model_output' in document.components.schemas);
      assert.ok('/api/models/iris_model/prediction' in document.paths);
    } finally {
      await service.close();
    }
  });
});
