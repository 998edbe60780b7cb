/**
 * A served model's memory report (docs/performance.md, "Memory"): the runtime's own reading (ONNX sessions, worker
 * threads' heaps), or "not measured" for a model that has none (a code model on the main thread shares the process's
 * heap, which nodejs_heap_size_used_bytes shows; longshore does not guess its share).
 */
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import type { ModelMemory } from '../wire.js';

const NOT_MEASURED: ModelMemory = {
  measured: false,
  bytes: {},
  method: 'not measured: the model runs on the main thread and shares the process heap (see nodejs_heap_size_used_bytes)',
};

/** The model's reading; a reading that fails is reported as not measured, with why. */
export async function readModelMemory(model: RuntimeModel): Promise<ModelMemory> {
  if (typeof model.memory !== 'function') return NOT_MEASURED;
  try {
    return await model.memory();
  } catch (error) {
    return { measured: false, bytes: {}, method: `not measured: reading the memory failed (${(error as Error).message})` };
  }
}
