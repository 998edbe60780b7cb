/**
 * The repository API's unload/load cycles with workers: 2 (npm run test:slow, about 25 s: each load starts two worker
 * threads with their own onnxruntime session): 50 cycles of mlp_heavy.onnx, RSS flat. The in-process run is in
 * npm test (repository-cycles.test.ts).
 *
 * The bound, 64 MB, is assertFlat's for worker threads (unload-cycles.ts): thread stacks and allocator arenas come and
 * go, and the windows' medians swing by ±10 MB; two sessions leaked per cycle would add over 600 MB. Measured (Node 20,
 * 2 cores): -1 to +3 MB.
 */
import { describe, it } from 'node:test';
import { assertFlat, REPOSITORY_CHILD, runCycles } from './unload-cycles.ts';

describe('the repository API: memory returned over 50 unload/load cycles, workers: 2', () => {
  it('workers: 2: RSS flat', async (t) => {
    const result = await runCycles(2, 50, REPOSITORY_CHILD);
    t.diagnostic(`RSS growth ${assertFlat(result, 64).toFixed(1)} MB`);
  });
});
