/**
 * Memory returned on unload, the long run (npm run test:slow, about 35 s): 50 cycles of create, load, predict, measure,
 * unload of mlp_heavy.onnx on the main thread and with workers: 2; RSS stays flat after the first 10 cycles (bounds and
 * measurements: unload-cycles.ts). The short run in npm test is onnx-unload-cycles.test.ts.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { assertFlat, MLP_HEAVY, runCycles } from './unload-cycles.ts';

describe('ONNX: memory returned on unload (50 cycles)', () => {
  it('in-process: RSS flat after 10 cycles', async (t) => {
    const result = await runCycles(0, 50);
    t.diagnostic(`growth ${assertFlat(result, 32).toFixed(1)} MB; RSS after the first unload ${((result.rss[0]! - result.baseline) / 2 ** 20).toFixed(1)} MB above the start`);
  });

  it('workers: 2: RSS flat after 10 cycles, the estimate counts both sessions', async (t) => {
    const result = await runCycles(2, 50);
    assert.equal(result.estimate, 2 * statSync(MLP_HEAVY).size);
    t.diagnostic(`growth ${assertFlat(result, 64).toFixed(1)} MB; RSS after the first unload ${((result.rss[0]! - result.baseline) / 2 ** 20).toFixed(1)} MB above the start`);
  });
});
