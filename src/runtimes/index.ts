/**
 * Picks the runtime for a model entry and creates its Model. Every runtime returns the same contract.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { runtimeOf } from '../config/load.js';
import type { ModelEntry } from '../config/schema.js';
import type { Model } from '../model/contract.js';
import { createModuleModel, EntryProblem } from './module.js';

export { EntryProblem } from './module.js';

/** Creates (but does not load) the model an entry describes. Throws EntryProblem naming the faulty key. */
export async function createModelFromEntry(entry: ModelEntry, dir: string): Promise<Model> {
  if (runtimeOf(entry) === 'onnx') return createOnnxModel(entry, dir);
  return createModuleModel(entry, dir);
}

/** onnxruntime-node (a 45 MB native library) is imported only when a config has an ONNX model. */
async function createOnnxModel(entry: ModelEntry, dir: string): Promise<Model> {
  const path = resolve(dir, entry.model_path as string);
  if (!existsSync(path)) throw new EntryProblem('model_path', `file not found: ${path}`);
  const { OnnxModel } = await import('./onnx.js');
  return new OnnxModel(path, {
    intraOpThreads: entry.intra_op_threads ?? 1,
    interOpThreads: entry.inter_op_threads,
    graphOptimizationLevel: entry.graph_optimization_level,
    executionProviders: entry.execution_providers ?? ['cpu'],
    outputs: entry.outputs,
    workers: entry.workers ?? 0,
  });
}
