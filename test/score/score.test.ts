/**
 * POST /api/models/{name}/score: metrics computed by longshore from the model's predictions (the iris ONNX classifier,
 * the diabetes ONNX regressor) checked against formulas written out here, a model's own score(), the 400s that name
 * the bad example, 404 / 503, and the path in the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { inputRecords, readFixture, serveYaml, FIXTURES, type Harness } from '../runtimes/onnx-harness.ts';

const SCORER = `
export class Scorer {
  qualified_name = 'scorer';
  display_name = 'Scorer';
  description = 'Scores itself.';
  version = '1';
  input_schema = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'], additionalProperties: false };
  output_schema = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] };
  predict(input) { return { a: input.x, b: -input.x }; }
  score(examples) {
    if (examples.some((e) => e.expected === 'explode')) throw new Error('boom');
    if (examples.some((e) => e.expected === 'bad')) return { auc: 'high' };
    return { examples_seen: examples.length, sum_x: examples.reduce((s, e) => s + e.input.x, 0) };
  }
}

export class TwoNumbers {
  qualified_name = 'two_numbers';
  display_name = 'Two numbers';
  description = 'Two numeric outputs, no preferred name.';
  version = '1';
  input_schema = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] };
  output_schema = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] };
  predict(input) { return { a: input.x, b: 2 * input.x }; }
}
`;

/** Independent formulas: accuracy and macro precision / recall / F1 over the union of classes (0 for an empty denominator). */
function expectedClassification(truth: number[], predicted: number[]) {
  const classes = [...new Set([...truth, ...predicted])];
  const per = classes.map((c) => {
    const tp = truth.filter((t, i) => t === c && predicted[i] === c).length;
    const fp = truth.filter((t, i) => t !== c && predicted[i] === c).length;
    const fn = truth.filter((t, i) => t === c && predicted[i] !== c).length;
    const p = tp + fp === 0 ? 0 : tp / (tp + fp);
    const r = tp + fn === 0 ? 0 : tp / (tp + fn);
    return { p, r, f1: p + r === 0 ? 0 : (2 * p * r) / (p + r) };
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    accuracy: truth.filter((t, i) => t === predicted[i]).length / truth.length,
    precision_macro: mean(per.map((x) => x.p)),
    recall_macro: mean(per.map((x) => x.r)),
    f1_macro: mean(per.map((x) => x.f1)),
    count: truth.length,
  };
}

function expectedRegression(truth: number[], predicted: number[]) {
  const n = truth.length;
  const mean = truth.reduce((a, b) => a + b, 0) / n;
  const residuals = truth.map((t, i) => t - (predicted[i] as number));
  const ssRes = residuals.reduce((a, e) => a + e * e, 0);
  const ssTot = truth.reduce((a, t) => a + (t - mean) ** 2, 0);
  return { mae: residuals.reduce((a, e) => a + Math.abs(e), 0) / n, rmse: Math.sqrt(ssRes / n), r2: 1 - ssRes / ssTot, count: n };
}

function assertClose(actual: Record<string, number>, expected: Record<string, number>, tolerance: number): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [key, value] of Object.entries(expected)) {
    assert.ok(Math.abs((actual[key] as number) - value) <= tolerance, `${key}: ${actual[key]} ≈ ${value}`);
  }
}

describe('POST /api/models/{name}/score', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveYaml(
      [
        'models:',
        `  - model_path: ${FIXTURES}iris_logreg.onnx`,
        `  - model_path: ${FIXTURES}diabetes_gbr.onnx`,
        '  - class_path: ./models.ts#Scorer',
        '  - class_path: ./models.ts#TwoNumbers',
        '  - class_path: ./models.ts#Scorer',
        '    qualified_name: text_scorer',
        '    decorators:',
        '      - class_path: longshore:transform',
        '        configuration: {module: ./text.ts, input: toNumber, input_schema: input_schema}',
        '',
      ].join('\n'),
      {
        'models.ts': SCORER,
        'text.ts': `export const input_schema = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
export function toNumber(input) { return { x: Number(input.text) }; }`,
      },
    );
  });
  after(() => harness.close());

  const score = (name: string, payload: unknown) => harness.app.inject({ method: 'POST', url: `/api/models/${name}/score`, payload: payload as object });

  it('scores the iris classifier: accuracy and macro precision / recall / F1 against known labels', async () => {
    const iris = readFixture('iris_logreg');
    const inputs = inputRecords(iris);
    const reference = iris.outputs.label?.data as number[]; // [0, 1, 2, 0, 2]
    // Both passes over the five rows; three expected labels deliberately wrong.
    const predicted = [...reference, ...reference];
    const truth = [...predicted];
    truth[1] = 2;
    truth[6] = 0;
    truth[7] = 1;
    const examples = truth.map((label, i) => ({ input: inputs[i % inputs.length], expected: i % 2 === 0 ? label : { label } }));
    const response = await score('iris_logreg', { examples });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.computed_by, 'longshore');
    assert.equal(body.task, 'classification');
    assert.equal(body.target, 'label');
    const want = expectedClassification(truth, predicted);
    assert.equal(want.accuracy, 7 / 10);
    assertClose(body.metrics, want, 1e-12);
  });

  it('scores the diabetes regressor: MAE, RMSE and R² against known targets', async () => {
    const diabetes = readFixture('diabetes_gbr');
    const inputs = inputRecords(diabetes);
    const predicted = diabetes.outputs.variable?.data as number[];
    const truth = [151, 75, 141, 206, 135];
    const examples = truth.map((value, i) => ({ input: inputs[i], expected: i === 2 ? { variable: [value] } : value }));
    const response = await score('diabetes_gbr', { examples });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.task, 'regression');
    assert.equal(body.target, 'variable');
    assertClose(body.metrics, expectedRegression(truth, predicted), 1e-3);
  });

  it('returns the metrics of a model that implements score(), with its inputs validated first', async () => {
    const ok = await score('scorer', { examples: [{ input: { x: 1 }, expected: 'a' }, { input: { x: 2.5 }, expected: { a: 2 } }] });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { metrics: { examples_seen: 2, sum_x: 3.5 }, computed_by: 'model' });

    const invalid = await score('scorer', { examples: [{ input: { x: 1 }, expected: 1 }, { input: { x: 'two' }, expected: 1 }] });
    assert.equal(invalid.statusCode, 400);
    assert.deepEqual(invalid.json().details.map((d: { path: string }) => d.path), ['/examples/1/input/x']);

    const notNumbers = await score('scorer', { examples: [{ input: { x: 1 }, expected: 'bad' }] });
    assert.equal(notNumbers.statusCode, 500);
    assert.equal(notNumbers.json().type, 'InferenceError');
    assert.deepEqual(notNumbers.json().details, [{ path: '/auc', message: 'must be a finite number' }]);

    const threw = await score('scorer', { examples: [{ input: { x: 1 }, expected: 'explode' }] });
    assert.equal(threw.statusCode, 500);
    assert.match(threw.json().message, /failed to score: boom/);
  });

  it("a model's own score() behind a decorator that changes the input gets inputs of the model's own schema", async () => {
    const prediction = await harness.app.inject({ method: 'POST', url: '/api/models/text_scorer/prediction', payload: { text: '4' } });
    assert.deepEqual(prediction.json(), { a: 4, b: -4 });
    const ok = await score('text_scorer', { examples: [{ input: { x: 1 }, expected: 'a' }, { input: { x: 2 }, expected: 'a' }] });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { metrics: { examples_seen: 2, sum_x: 3 }, computed_by: 'model' });
    const decoratedShape = await score('text_scorer', { examples: [{ input: { text: '1' }, expected: 'a' }] });
    assert.equal(decoratedShape.statusCode, 400);
  });

  it('answers 400 naming the bad example for inputs that fail the schema and for malformed bodies', async () => {
    const inputs = inputRecords(readFixture('iris_logreg'));
    const examples: unknown[] = inputs.map((input) => ({ input, expected: 0 }));
    examples[3] = { input: { input: [5, 3, 'wide', 0.2] }, expected: 0 };
    const bad = await score('iris_logreg', { examples });
    assert.equal(bad.statusCode, 400, bad.body);
    const body = bad.json();
    assert.equal(body.type, 'SchemaValidationError');
    assert.ok(body.details.length > 0);
    for (const detail of body.details) assert.match(detail.path, /^\/examples\/3\/input\/input/);

    const missing = await score('iris_logreg', { examples: [{ input: inputs[0], expected: 0 }, { input: inputs[1] }] });
    assert.equal(missing.statusCode, 400);
    assert.deepEqual(missing.json().details, [{ path: '/examples/1/expected', message: 'is required' }]);

    const noField = await score('iris_logreg', { examples: [{ input: inputs[0], expected: 0 }, { input: inputs[1], expected: { class: 1 } }] });
    assert.equal(noField.statusCode, 400);
    assert.deepEqual(noField.json().details.map((d: { path: string }) => d.path), ['/examples/1/expected/label']);

    for (const payload of [[], {}, { examples: [] }, { examples: [1] }, { examples: [{ input: {}, expected: 1 }], task: 'clustering' }]) {
      const response = await score('iris_logreg', payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json().type, 'SchemaValidationError');
    }
  });

  it('asks for "target" when the output field is ambiguous, and uses it when given', async () => {
    const examples = [{ input: { x: 1 }, expected: 2 }, { input: { x: 2 }, expected: 4 }, { input: { x: 4 }, expected: 7 }];
    const ambiguous = await score('two_numbers', { examples });
    assert.equal(ambiguous.statusCode, 400);
    const body = ambiguous.json();
    assert.equal(body.type, 'SchemaValidationError');
    assert.match(body.message, /'a', 'b'/);
    assert.match(body.message, /"target"/);
    assert.equal(body.details[0].path, '/target');

    const picked = await score('two_numbers', { examples, target: 'b', task: 'regression' });
    assert.equal(picked.statusCode, 200, picked.body);
    assert.equal(picked.json().target, 'b');
    assertClose(picked.json().metrics, expectedRegression([2, 4, 7], [2, 4, 8]), 1e-12);

    const unknown = await score('two_numbers', { examples, target: 'c' });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().message, /no output field 'c'/);
  });

  it('answers 404 for an unknown model', async () => {
    const response = await score('nope', { examples: [{ input: {}, expected: 1 }] });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().type, 'ModelNotFoundError');
  });

  it('answers 503 for a model that is not ready', async () => {
    const model = harness.registry.require('scorer');
    await model.unload();
    const response = await score('scorer', { examples: [{ input: { x: 1 }, expected: 1 }] });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().type, 'ModelNotReadyError');
  });

  it('documents /api/models/{name}/score per model in a valid OpenAPI document', async () => {
    const document = harness.app.openapiDocument();
    await SwaggerParser.validate(structuredClone(document) as unknown as Parameters<typeof SwaggerParser.validate>[0]);
    for (const name of ['iris_logreg', 'diabetes_gbr', 'two_numbers']) {
      const post = (document.paths[`/api/models/${name}/score`] as { post: Record<string, unknown> } | undefined)?.post;
      assert.ok(post, `${name} has a score path`);
      const request = JSON.stringify(post.requestBody);
      assert.ok(request.includes(`#/components/schemas/${name}_input`), request);
      const ok = (post.responses as Record<string, { content: { 'application/json': { schema: { properties: { metrics: unknown } } } } }>)['200'];
      assert.deepEqual(ok?.content['application/json'].schema.properties.metrics, {
        type: 'object',
        additionalProperties: { type: 'number' },
        description: (ok?.content['application/json'].schema.properties.metrics as { description: string }).description,
      });
    }
  });
});
