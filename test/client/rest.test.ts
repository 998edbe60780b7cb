/** The client's REST calls against a real server serving the example config. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LongshoreClient, LongshoreClientError } from '../../src/client/index.ts';
import type { RunningServer } from '../../src/server.ts';
import { startExampleServer } from './example-server.ts';

interface IrisOutput {
  species: string;
  label: number;
  probabilities: number[];
}

const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const VERSICOLOR = { sepal_length: 7.0, sepal_width: 3.2, petal_length: 4.7, petal_width: 1.4 };

describe('LongshoreClient REST API', () => {
  let server: RunningServer;
  let client: LongshoreClient;

  before(async () => {
    server = await startExampleServer();
    client = new LongshoreClient(server.url, { timeoutMs: 10_000 });
  });
  after(() => server.close());

  it('listModels() lists the nine example models, all ready', async () => {
    const models = await client.listModels();
    assert.deepEqual(
      models.map((model) => [model.qualified_name, model.status]),
      [
        ['iris_model', 'ready'],
        ['iris_onnx', 'ready'],
        ['topic', 'ready'],
        ['iris_onnx_named', 'ready'],
        ['iris_ab', 'ready'],
        ['topic_text', 'ready'],
        ['sentiment', 'ready'],
        ['entities', 'ready'],
        ['embeddings', 'ready'],
      ],
    );
  });

  it('metadata() returns the listing and both schemas', async () => {
    const description = await client.metadata('iris_model');
    assert.equal(description.qualified_name, 'iris_model');
    assert.equal(description.version, '1.0.0');
    assert.equal(description.status, 'ready');
    assert.deepEqual(Object.keys(description.input_schema?.properties as object), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    assert.ok(description.output_schema);
  });

  it('predict() returns the output record', async () => {
    const output = await client.predict<IrisOutput>('iris_model', SETOSA);
    assert.equal(output.species, 'setosa');
    assert.equal(output.label, 0);
    assert.equal(output.probabilities.length, 3);
  });

  it('predict() on an ONNX model takes its record form', async () => {
    const output = await client.predict<{ label: number }>('iris_onnx', { input: [7.0, 3.2, 4.7, 1.4] });
    assert.equal(output.label, 1);
  });

  it('predictBatch() answers in order', async () => {
    const outputs = await client.predictBatch<IrisOutput>('iris_model', [SETOSA, VERSICOLOR, SETOSA]);
    assert.deepEqual(
      outputs.map((output) => output.species),
      ['setosa', 'versicolor', 'setosa'],
    );
  });

  it('health() and ready() are true on a loaded server', async () => {
    assert.equal(await client.health(), true);
    assert.equal(await client.ready(), true);
  });

  it('an unknown model throws a 404 with the REST type, message and request id', async () => {
    const error = await client.metadata('nope').then(
      () => assert.fail('expected an error'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof LongshoreClientError);
    assert.equal(error.status, 404);
    assert.equal(error.type, 'ModelNotFoundError');
    assert.equal(error.message, "model 'nope' not found; served models: iris_model, iris_onnx, topic, iris_onnx_named, iris_ab, topic_text, sentiment, entities, embeddings");
    assert.deepEqual(error.details, []);
    assert.match(error.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(error.method, 'GET');
    assert.equal(error.url, `${server.url}/api/models/nope/metadata`);
  });

  it('an invalid record throws a 400 with the details of each problem', async () => {
    await assert.rejects(client.predict('iris_model', { ...SETOSA, petal_width: 'wide' }), (error: unknown) => {
      assert.ok(error instanceof LongshoreClientError);
      assert.equal(error.status, 400);
      assert.equal(error.type, 'SchemaValidationError');
      assert.match(error.message, /petal_width/);
      assert.deepEqual(
        error.details.map((detail) => detail.path),
        ['/petal_width'],
      );
      return true;
    });
  });

  it('predictBatch() of an unknown model is a 404', async () => {
    await assert.rejects(client.predictBatch('nope', [SETOSA]), { name: 'LongshoreClientError', status: 404, type: 'ModelNotFoundError' });
  });
});
