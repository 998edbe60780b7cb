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

/**
 * onnxruntime-node (a native library, about 290 MB installed with its other platforms) is an optional peer dependency:
 * imported only when a config has an ONNX model, and named in the error when the project has not installed it.
 */
async function createOnnxModel(entry: ModelEntry, dir: string): Promise<Model> {
  const path = resolve(dir, entry.model_path as string);
  if (!existsSync(path)) throw new EntryProblem('model_path', `file not found: ${path}`);
  const { OnnxModel } = await importOnnxRuntime();
  return new OnnxModel(path, {
    intraOpThreads: entry.intra_op_threads ?? 1,
    interOpThreads: entry.inter_op_threads,
    graphOptimizationLevel: entry.graph_optimization_level,
    executionProviders: entry.execution_providers ?? ['cpu'],
    outputs: entry.outputs,
    workers: entry.workers ?? 0,
  });
}

async function importOnnxRuntime(): Promise<typeof import('./onnx.js')> {
  try {
    return await import('./onnx.js');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !message.includes("'onnxruntime-node'")) throw error;
    throw new EntryProblem(
      'model_path',
      "serving an .onnx file needs the package 'onnxruntime-node', which is not installed: run `npm install onnxruntime-node` " +
        'in your project (offline or in CI, skip its CUDA download first: see "ONNX models offline, in CI and with CUDA" in longshore\'s README)',
    );
  }
}
