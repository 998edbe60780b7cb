/**
 * /score when predictions are null (a float the model computed as NaN or ±Infinity; docs/score.md, "Non-finite
 * predictions"): never a 500; in classification a null is a wrong answer and no class of its own, in regression the
 * row is left out; `non_finite_predictions` counts them; a regression with no finite prediction is a 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { classificationMetrics } from '../../src/model/score.ts';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.ts';

const json = { 'content-type': 'application/json' };

/** ln(1) = 0, ln(e) = 1, ln(0) and ln(-1) are not finite: nullable_log answers null for them. */
const X = [1, Math.E, 0, -1];

function assertClose(actual: Record<string, number>, expected: Record<string, number>): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [key, value] of Object.entries(expected)) assert.ok(Math.abs((actual[key] as number) - value) < 1e-9, `${key}: ${actual[key]} vs ${value}`);
}

describe('score with null predictions (nullable_log)', () => {
  let service: TestService;

  before(async () => {
    service = await buildService(configYaml([{ class_path: fixture('non-finite.ts', 'NullableLogModel') }]));
  });

  after(async () => {
    await service.close();
    await service.registry.unloadAll();
  });

  const score = (payload: unknown) => service.app.inject({ method: 'POST', url: '/api/models/nullable_log/score', headers: json, payload: JSON.stringify(payload) });

  it('leaves null rows out of regression metrics and counts them in non_finite_predictions', async () => {
    const expected = [0, 1.5, 3, 4];
    const response = await score({ examples: X.map((x, i) => ({ input: { x }, expected: expected[i] })) });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.task, 'regression');
    assert.equal(body.target, 'y');
    // Over the two finite rows only: errors 0 and 0.5, mean of expected 0.75.
    assertClose(body.metrics, { mae: 0.25, rmse: Math.sqrt(0.25 / 2), r2: 1 - 0.25 / 1.125, count: 2, non_finite_predictions: 2 });
  });

  it('picks the target even when the first prediction is null', async () => {
    const response = await score({ examples: [{ input: { x: 0 }, expected: 1.5 }, { input: { x: 1 }, expected: 0.5 }] });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().target, 'y');
    // One row left: its target is constant and the fit not perfect, so r2 is 0 (as for any constant target).
    assertClose(response.json().metrics, { mae: 0.5, rmse: 0.5, r2: 0, count: 1, non_finite_predictions: 1 });
  });

  it('answers 400 naming /examples when every prediction of a regression is null', async () => {
    const response = await score({ examples: [{ input: { x: 0 }, expected: 1.5 }, { input: { x: -3 }, expected: 2.5 }] });
    assert.equal(response.statusCode, 400, response.body);
    const body = response.json();
    assert.equal(body.type, 'SchemaValidationError');
    assert.match(body.message, /every prediction of 'y' is null .* no regression metric can be computed/);
    assert.deepEqual(body.details, [{ path: '/examples', message: "no example has a finite prediction of 'y'" }]);
  });

  it('counts a null as a wrong answer in classification', async () => {
    const response = await score({ task: 'classification', examples: [{ input: { x: 1 }, expected: 0 }, { input: { x: 0 }, expected: 0 }] });
    assert.equal(response.statusCode, 200, response.body);
    // One class (0): TP 1, predicted 0 once, expected twice.
    assertClose(response.json().metrics, { accuracy: 0.5, precision_macro: 1, recall_macro: 0.5, f1_macro: 2 / 3, count: 2, non_finite_predictions: 1 });
  });
});

describe('classificationMetrics with null predictions', () => {
  it('adds no class for null and lowers the recall of the expected class', () => {
    const metrics = classificationMetrics(['a', 'a', 'b', 'b'], ['a', null, 'b', 'a']);
    // Classes a and b: a has P 1/2, R 1/2; b has P 1, R 1/2.
    assertClose(metrics, {
      accuracy: 0.5,
      precision_macro: (0.5 + 1) / 2,
      recall_macro: 0.5,
      f1_macro: (0.5 + 2 / 3) / 2,
      count: 4,
      non_finite_predictions: 1,
    });
  });

  it('gives 0 everywhere when every prediction is null, and no non_finite key when there is none', () => {
    assertClose(classificationMetrics([1, 2], [null, null]), { accuracy: 0, precision_macro: 0, recall_macro: 0, f1_macro: 0, count: 2, non_finite_predictions: 2 });
    assert.equal('non_finite_predictions' in classificationMetrics([1], [1]), false);
  });
});
