/**
 * Ensemble graphs through HTTP: the weighted majority vote (ties, the answering record), the weighted mean of numeric
 * fields, the weighted mean of probabilities with class labels, and an ensemble of the iris ONNX model and a code model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inputRecords, readFixture } from '../runtimes/onnx-harness.ts';
import { member, ONNX_FIXTURES, predict, serveModels, type Harness } from './graph-harness.ts';

function classifier(name: string, label: string, probabilities: number[]): string[] {
  return [
    `  - class_path: ${member('FixedClassifier')}`,
    `    qualified_name: ${name}`,
    `    configuration: {label: ${label}, probabilities: [${probabilities.join(', ')}]}`,
  ];
}

function closeTo(actual: number[], expected: number[], tolerance = 1e-9): void {
  assert.equal(actual.length, expected.length, `${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`);
  actual.forEach((value, index) => assert.ok(Math.abs(value - (expected[index] as number)) <= tolerance, `${JSON.stringify(actual)} ≈ ${JSON.stringify(expected)}`));
}

describe('ensemble: majority vote', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      ...classifier('cat_a', 'cat', [0.6, 0.4]),
      ...classifier('cat_b', 'cat', [0.9, 0.1]),
      ...classifier('dog', 'dog', [0.2, 0.8]),
      '  - qualified_name: vote',
      '    graph: {kind: ensemble, members: [cat_a, cat_b, dog]}',
      '  - qualified_name: vote_dog_first',
      '    graph: {kind: ensemble, combine: majority, members: [dog, cat_b, cat_a]}',
      '  - qualified_name: vote_weighted',
      '    graph: {kind: ensemble, members: [cat_a, cat_b, {model: dog, weight: 3}]}',
      '  - qualified_name: tie_cat_first',
      '    graph: {kind: ensemble, members: [cat_b, dog]}',
      '  - qualified_name: tie_dog_first',
      '    graph: {kind: ensemble, members: [dog, cat_b]}',
    ]);
  });
  after(() => harness.close());

  it('answers the label of the majority with the record of the first member that voted for it', async () => {
    const response = await predict(harness, 'vote', { x: 7 });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { label: 'cat', x: 7, probabilities: [0.6, 0.4] });

    const reordered = await predict(harness, 'vote_dog_first', { x: 1.5 });
    assert.equal(reordered.statusCode, 200, reordered.body);
    assert.deepEqual(reordered.json(), { label: 'cat', x: 1.5, probabilities: [0.9, 0.1] });
  });

  it('lets a heavier member outvote two lighter ones', async () => {
    const response = await predict(harness, 'vote_weighted', { x: 2 });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { label: 'dog', x: 2, probabilities: [0.2, 0.8] });
  });

  it('breaks a tie in favour of the label voted first', async () => {
    assert.equal((await predict(harness, 'tie_cat_first', { x: 0 })).json().label, 'cat');
    assert.equal((await predict(harness, 'tie_dog_first', { x: 0 })).json().label, 'dog');
  });

  it('describes itself by its members and combine', async () => {
    const listing = (await harness.app.inject({ method: 'GET', url: '/api/models' })).json();
    const vote = listing.models.find((model: { qualified_name: string }) => model.qualified_name === 'vote');
    assert.equal(vote.status, 'ready');
    assert.equal(vote.description, 'Ensemble of cat_a, cat_b, dog (majority vote)');
    assert.equal(vote.version, '1');
  });
});

describe('ensemble: weighted mean of numeric fields', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      `  - class_path: ${member('LinearRegressor')}`,
      '    qualified_name: line_a',
      '    configuration: {slope: 1, intercept: 0, tag: first}',
      `  - class_path: ${member('LinearRegressor')}`,
      '    qualified_name: line_b',
      '    configuration: {slope: 3, intercept: 2, tag: second}',
      '  - qualified_name: mean_line',
      '    graph: {kind: ensemble, combine: mean, members: [line_a, {model: line_b, weight: 3}]}',
    ]);
  });
  after(() => harness.close());

  it('averages numbers and numeric arrays with the weights, and keeps other fields of the first member', async () => {
    for (const x of [2, -1.25, 10]) {
      const a = (await predict(harness, 'line_a', { x })).json();
      const b = (await predict(harness, 'line_b', { x })).json();
      const response = await predict(harness, 'mean_line', { x });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.tag, 'first');
      closeTo([body.y], [(a.y + 3 * b.y) / 4]);
      closeTo(body.vector, [(a.vector[0] + 3 * b.vector[0]) / 4, (a.vector[1] + 3 * b.vector[1]) / 4]);
      assert.notEqual(a.y, b.y);
    }
    // x = 2: y is (2 + 3 * 8) / 4.
    assert.equal((await predict(harness, 'mean_line', { x: 2 })).json().y, 6.5);
  });
});

describe('ensemble: mean of probabilities', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      ...classifier('p1', 'one', [0.8, 0.1, 0.1]),
      ...classifier('p2', 'two', [0.6, 0.3, 0.1]),
      ...classifier('p3', 'three', [0.1, 0.3, 0.6]),
      '  - qualified_name: soft',
      '    graph:',
      '      kind: ensemble',
      '      combine: mean_probability',
      '      labels: [setosa, versicolor, virginica]',
      '      members: [p1, p2, p3]',
      '  - qualified_name: soft_weighted',
      '    graph:',
      '      kind: ensemble',
      '      combine: mean_probability',
      '      labels: [setosa, versicolor, virginica]',
      '      members: [p1, p2, {model: p3, weight: 4}]',
      '  - qualified_name: soft_indexed',
      '    graph: {kind: ensemble, combine: mean_probability, members: [p1, p2, {model: p3, weight: 4}]}',
    ]);
  });
  after(() => harness.close());

  it('averages the probabilities and labels the most probable class from labels', async () => {
    const response = await predict(harness, 'soft', { x: 3 });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.label, 'setosa');
    assert.equal(body.x, 3);
    closeTo(body.probabilities, [1.5 / 3, 0.7 / 3, 0.8 / 3]);
  });

  it('weighs the members', async () => {
    const body = (await predict(harness, 'soft_weighted', { x: 3 })).json();
    assert.equal(body.label, 'virginica');
    closeTo(body.probabilities, [(0.8 + 0.6 + 0.4) / 6, (0.1 + 0.3 + 1.2) / 6, (0.1 + 0.1 + 2.4) / 6]);
  });

  it('answers the class index without labels, and its output schema says so', async () => {
    const body = (await predict(harness, 'soft_indexed', { x: 3 })).json();
    assert.equal(body.label, 2);
    const meta = (await harness.app.inject({ method: 'GET', url: '/api/models/soft_weighted/metadata' })).json();
    assert.deepEqual(meta.output_schema.properties.label.enum, ['setosa', 'versicolor', 'virginica', null]);
  });
});

describe('ensemble: the iris ONNX model and a code model', () => {
  let harness: Harness;
  const LABELS = ['setosa', 'versicolor', 'virginica'];
  before(async () => {
    harness = await serveModels([
      `  - model_path: ${ONNX_FIXTURES}iris_logreg.onnx`,
      '    qualified_name: iris_onnx',
      `  - class_path: ${member('IrisRules')}`,
      '  - qualified_name: iris_soft',
      '    graph:',
      '      kind: ensemble',
      '      combine: mean_probability',
      `      labels: [${LABELS.join(', ')}]`,
      '      members: [{model: iris_onnx, weight: 2}, iris_rules]',
      '  - qualified_name: iris_vote',
      '    graph: {kind: ensemble, members: [iris_onnx, {model: iris_rules, weight: 1.5}]}',
    ]);
  });
  after(() => harness.close());

  it('averages the ONNX probabilities with the code model', async () => {
    let disagreements = 0;
    const rows = [...inputRecords(readFixture('iris_logreg')), { input: [6.0, 2.7, 5.1, 1.6] }, { input: [4.9, 2.5, 4.5, 1.7] }];
    for (const row of rows) {
      const onnx = (await predict(harness, 'iris_onnx', row)).json();
      const rules = (await predict(harness, 'iris_rules', row)).json();
      const response = await predict(harness, 'iris_soft', row);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      const expected = onnx.probabilities.map((p: number, i: number) => (2 * p + rules.probabilities[i]) / 3);
      closeTo(body.probabilities, expected, 1e-6);
      assert.equal(body.label, LABELS[expected.indexOf(Math.max(...expected))]);

      const vote = (await predict(harness, 'iris_vote', row)).json();
      // The rules model weighs more, so it wins when the two disagree; when they agree the ONNX model (listed first) answers.
      if (onnx.label === rules.label) {
        assert.deepEqual(vote, onnx);
      } else {
        disagreements++;
        assert.deepEqual(vote, rules);
      }
    }
    assert.ok(disagreements > 0, 'some row should split the two models');
  });

  it('answers null for a class whose ONNX probability is non-finite, never a 500 (docs/onnx.md)', async () => {
    const row = { input: [0, 0, 2.987e38, 0] };
    const onnx = (await predict(harness, 'iris_onnx', row)).json();
    assert.ok(onnx.probabilities.includes(null), `the ONNX member answers a null probability: ${JSON.stringify(onnx)}`);
    const response = await predict(harness, 'iris_soft', row);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    const rules = (await predict(harness, 'iris_rules', row)).json();
    onnx.probabilities.forEach((p: number | null, i: number) => {
      if (p === null) assert.equal(body.probabilities[i], null);
      else assert.ok(Math.abs(body.probabilities[i] - (2 * p + rules.probabilities[i]) / 3) < 1e-6);
    });
    const finite = body.probabilities.map((p: number | null) => (p === null ? -Infinity : p));
    const label = finite.some((p: number) => p > -Infinity) ? LABELS[finite.indexOf(Math.max(...finite))] : null;
    assert.equal(body.label, label);
  });
});
