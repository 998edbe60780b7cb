/**
 * The bundled example (examples/longshore.yaml): the TypeScript iris model reproduces the reference labels and
 * probabilities, one record at a time and as a batch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServiceFromFile, EXAMPLE_CONFIG, type TestService } from '../helpers/service.ts';

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [7.0, 3.2, 4.7, 1.4],
  [6.3, 3.3, 6.0, 2.5],
  [5.0, 3.0, 1.6, 0.2],
  [7.2, 3.2, 6.0, 1.8],
] as const;
const LABELS = [0, 1, 2, 0, 2];
const SPECIES = ['setosa', 'versicolor', 'virginica'];
const PROBABILITIES = [
  [0.9815794229507446, 0.018420549109578133, 1.459569620720913e-8],
  [0.002121533500030637, 0.8748664259910583, 0.12301208823919296],
  [9.13166161353729e-7, 0.003932621330022812, 0.9960665106773376],
  [0.9509856104850769, 0.04901435971260071, 8.7910223101062e-8],
  [4.8930992306850385e-6, 0.05196065828204155, 0.9480344653129578],
];

interface IrisOutput {
  species: string;
  label: number;
  probabilities: number[];
}

const toInput = ([sepal_length, sepal_width, petal_length, petal_width]: readonly number[]) => ({
  sepal_length,
  sepal_width,
  petal_length,
  petal_width,
});

function assertReference(output: IrisOutput, row: number): void {
  assert.equal(output.label, LABELS[row], `label of row ${row}`);
  assert.equal(output.species, SPECIES[LABELS[row] ?? -1], `species of row ${row}`);
  assert.equal(output.probabilities.length, 3);
  output.probabilities.forEach((p, k) => {
    const expected = PROBABILITIES[row]?.[k] ?? NaN;
    assert.ok(Math.abs(p - expected) <= 1e-6, `row ${row} class ${k}: ${p} is not within 1e-6 of ${expected}`);
  });
}

describe('the iris example', () => {
  let service: TestService;
  before(async () => {
    service = await buildServiceFromFile(EXAMPLE_CONFIG);
  });
  after(() => service.close());

  it('loads and is ready', async () => {
    assert.equal(service.registry.require('iris_model').state, 'ready');
    assert.equal((await service.app.inject({ url: '/api/health/ready' })).statusCode, 200);
  });

  it('predicts the reference label and probabilities of each row via /prediction', async () => {
    for (const [row, features] of ROWS.entries()) {
      const response = await service.app.inject({ method: 'POST', url: '/api/models/iris_model/prediction', payload: toInput(features) });
      assert.equal(response.statusCode, 200, response.body);
      assertReference(response.json() as IrisOutput, row);
    }
  });

  it('predicts the reference labels and probabilities of all rows, in order, via /predictions', async () => {
    const response = await service.app.inject({ method: 'POST', url: '/api/models/iris_model/predictions', payload: ROWS.map(toInput) });
    assert.equal(response.statusCode, 200, response.body);
    const outputs = response.json() as IrisOutput[];
    assert.equal(outputs.length, ROWS.length);
    outputs.forEach(assertReference);
  });

  it('rejects a row with a missing and a misspelled measurement, naming both', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/models/iris_model/prediction',
      payload: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_widht: 0.2 },
    });
    assert.equal(response.statusCode, 400);
    const body = response.json() as { type: string; details: { path: string }[] };
    assert.equal(body.type, 'SchemaValidationError');
    assert.deepEqual(body.details.map((d) => d.path).sort(), ['/petal_widht', '/petal_width']);
  });
});
