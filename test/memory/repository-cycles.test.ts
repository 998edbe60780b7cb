/**
 * Memory returned by the repository API (issue 16): mlp_heavy.onnx (10.5 MB) unloaded and loaded again 50 times through
 * POST /v2/repository/models/{name}/unload and /load on a real server in a child process, on the main thread; RSS stays
 * flat (repository-cycles-child.ts). The same with workers: 2 is repository-cycles-long.test.ts (npm run test:slow).
 *
 * The bound is assertFlat's (unload-cycles.ts): the medians of cycles 10-19 and of the last 10 may differ by under
 * 32 MB. An old session kept alive by the repository (a retired model still in the registry, a drain that never
 * ends) would add ≥ 10.5 MB per cycle, over 300 MB between the windows. Measured (Node 20, 2 cores): +5 to +8 MB
 * alone, up to +14 MB beside another test process; the main thread's heap grows 2.3 to 2.6 MB over the 50 cycles, the
 * growth tapering (over 600 cycles of iris_logreg.onnx, RSS came back to where it started and the heap grew under
 * 1.2 KB a cycle over the last 350).
 */
import { describe, it } from 'node:test';
import { assertFlat, REPOSITORY_CHILD, runCycles } from './unload-cycles.ts';

const MB = 2 ** 20;

describe('the repository API: memory returned over 50 unload/load cycles', () => {
  it('in-process: RSS flat', async (t) => {
    const result = await runCycles(0, 50, REPOSITORY_CHILD);
    const heap = result.heap ?? [];
    t.diagnostic(`RSS growth ${assertFlat(result, 32).toFixed(1)} MB; heap ${((heap.at(-1)! - heap[0]!) / MB).toFixed(2)} MB over the cycles`);
  });
});
