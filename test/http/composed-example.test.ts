/**
 * The composed models of the bundled example (examples/longshore.yaml): the A/B router between the TypeScript iris
 * model and its ONNX export behind the same API, and the text front end of the topic classifier (checks, cache,
 * prediction ids, self-tests), through REST and V2.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServiceFromFile, EXAMPLE_CONFIG, type TestService } from '../helpers/service.ts';

const VIRGINICA = { sepal_length: 6.3, sepal_width: 3.3, petal_length: 6.0, petal_width: 2.5 };
/** onnxruntime's reference probabilities for that flower (test/fixtures/onnx/iris_logreg.json, row 2). */
const VIRGINICA_PROBABILITIES = [9.13166161353729e-7, 0.003932621330022812, 0.9960665106773376];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('the composed example models', () => {
  let service: TestService;

  before(async () => {
    service = await buildServiceFromFile(EXAMPLE_CONFIG);
  });
  after(async () => {
    await service.close();
    await service.registry.unloadAll();
  });

  const predict = (model: string, payload: unknown, headers: Record<string, string> = {}) =>
    service.app.inject({ method: 'POST', url: `/api/models/${model}/prediction`, payload: payload as object, headers });

  it('every example model is ready, its self-tests passed, and the hidden ONNX member has no endpoint of its own', async () => {
    const models = (await service.app.inject('/api/models')).json().models as { qualified_name: string; status: string }[];
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
    assert.equal((await predict('iris_onnx_named', VIRGINICA)).statusCode, 404);
    assert.equal((await service.app.inject('/api/health/ready?deep=true')).statusCode, 200);
  });

  it('iris_ab: x-variant picks the member, both answer the same API, and routed_to names the one that answered', async () => {
    const typescript = await predict('iris_ab', VIRGINICA, { 'x-variant': 'typescript' });
    const onnx = await predict('iris_ab', VIRGINICA, { 'x-variant': 'onnx' });
    assert.equal(typescript.statusCode, 200);
    assert.equal(onnx.statusCode, 200);
    assert.equal(typescript.json().routed_to, 'iris_model');
    assert.equal(onnx.json().routed_to, 'iris_onnx_named');
    for (const answer of [typescript.json(), onnx.json()]) {
      assert.equal(answer.species, 'virginica');
      assert.equal(answer.label, 2);
      answer.probabilities.forEach((p: number, i: number) => assert.ok(Math.abs(p - (VIRGINICA_PROBABILITIES[i] as number)) < 1e-6));
    }
  });

  it('iris_ab without the header splits traffic by weight (90/10): over 400 requests both members answer, mostly iris_model', async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const member = (await predict('iris_ab', VIRGINICA)).json().routed_to as string;
      counts.set(member, (counts.get(member) ?? 0) + 1);
    }
    const onnx = counts.get('iris_onnx_named') ?? 0;
    // Binomial(400, 0.1): mean 40, sd 6; 10..80 is beyond five sd either way.
    assert.ok(onnx >= 10 && onnx <= 80, `iris_onnx_named answered ${onnx} of 400`);
    assert.equal((counts.get('iris_model') ?? 0) + onnx, 400);
  });

  it('topic_text: raw text in, topic and confidence out, with a fresh prediction id on every answer (cached or not)', async () => {
    const first = await predict('topic_text', { text: 'Rain and wind expected tomorrow, see https://example.com/forecast 42' });
    assert.equal(first.statusCode, 200);
    assert.equal(first.json().topic, 'weather');
    assert.ok(first.json().confidence > 0.5 && first.json().confidence <= 1);
    assert.match(first.json().prediction_id, UUID);
    const again = await predict('topic_text', { text: 'Rain and wind expected tomorrow, see https://example.com/forecast 42' });
    assert.equal(again.json().topic, 'weather');
    assert.equal(again.json().confidence, first.json().confidence);
    assert.notEqual(again.json().prediction_id, first.json().prediction_id);
    const metrics = (await service.app.inject('/metrics')).body;
    assert.match(metrics, /longshore_cache_requests_total\{model="topic_text",version="1",result="hit"\} [1-9]/);
  });

  it('topic_text: its input is the text schema (the graph tensor is refused), and the word check answers 400 with its message', async () => {
    const tensorShaped = await predict('topic_text', { input: ['rain tomorrow'] });
    assert.equal(tensorShaped.statusCode, 400);
    const noWords = await predict('topic_text', { text: '42 https://example.com' });
    assert.equal(noWords.statusCode, 400);
    assert.match(noWords.json().message, /input check 'hasWords' failed: text has no words/);
    const document = (await service.app.inject('/openapi.json')).json();
    assert.deepEqual(Object.keys(document.components.schemas.topic_text_input.properties), ['text']);
    assert.deepEqual(Object.keys(document.components.schemas.topic_text_output.properties).sort(), ['confidence', 'prediction_id', 'topic']);
  });

  it('topic_text through V2: a BYTES text column in, topic, confidence and prediction_id columns out', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/v2/models/topic_text/infer',
      payload: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [3], data: ['the team scored a goal in the final', 'rain and wind expected tomorrow', 'fry the garlic in olive oil'] }] },
    });
    assert.equal(response.statusCode, 200, response.body);
    const outputs = Object.fromEntries((response.json().outputs as { name: string; data: unknown[] }[]).map((output) => [output.name, output.data]));
    assert.deepEqual(outputs.topic, ['sports', 'weather', 'food']);
    assert.equal(outputs.prediction_id?.length, 3);
  });
});
