/**
 * Memory returned on unload, the short run (npm test): an ONNX model (mlp_heavy.onnx, 10.5 MB) created, loaded, run,
 * measured and unloaded 20 times on the main thread; RSS stays flat (bounds: unload-cycles.ts). The 50-cycle runs, with
 * and without worker threads, are onnx-unload-cycles-long.test.ts (npm run test:slow).
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { assertFlat, MLP_HEAVY, runCycles } from './unload-cycles.ts';

describe('ONNX: memory returned on unload (short)', () => {
  it('keeps RSS flat over 20 load/predict/unload cycles on the main thread, and estimates one session at the file size', async (t) => {
    const result = await runCycles(0, 20);
    assert.equal(result.estimate, statSync(MLP_HEAVY).size);
    t.diagnostic(`growth ${assertFlat(result, 32).toFixed(1)} MB`);
  });
});
