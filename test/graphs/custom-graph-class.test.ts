/**
 * The TypeScript section of docs/graphs.md: when no built-in kind fits, a code model combines models of its own
 * (here the median of three lines, built from `configuration`), served like any model.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { predict, serveModels, type Harness } from './graph-harness.ts';

const MEDIAN = fileURLToPath(new URL('../fixtures/graphs/median.ts', import.meta.url));
const LINES = [
  { slope: 1, intercept: 0 },
  { slope: 2, intercept: 1 },
  { slope: -1, intercept: 0 },
];

describe('a graph written as a code model', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      `  - class_path: ${MEDIAN}#MedianRegressor`,
      '    configuration:',
      `      lines: [${LINES.map((line) => `{slope: ${line.slope}, intercept: ${line.intercept}}`).join(', ')}]`,
    ]);
  });
  after(() => harness.close());

  it('answers the median of its members', async () => {
    for (const x of [2, -3, 0.5]) {
      const ys = LINES.map((line) => line.slope * x + line.intercept).sort((a, b) => a - b);
      const response = await predict(harness, 'median_regressor', { x });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { y: ys[1] });
    }
  });
});
