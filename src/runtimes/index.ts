/**
 * The runtimes below the model layer: a module (a user's class) and an ONNX file. model/runtime-table.ts is the one
 * table that picks between them (and graphs) for an entry.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OnnxModelEntry } from '../config/schema.js';
import type { Model } from '../model/contract.js';
import { EntryProblem } from '../errors.js';

export { createModuleModel } from './module.js';

/**
 * onnxruntime-node (a native library, about 290 MB installed with its other platforms) is an optional peer dependency:
 * imported only when a config has an ONNX model, and named in the error when the project has not installed it.
 */
export async function createOnnxModel(entry: OnnxModelEntry, dir: string): Promise<Model> {
  const path = resolve(dir, entry.model_path);
  if (!existsSync(path)) throw new EntryProblem('model_path', `file not found: ${path}`);
  const { OnnxModel } = await importOnnxRuntime();
  return new OnnxModel(path, {
    intraOpThreads: entry.intra_op_threads,
    interOpThreads: entry.inter_op_threads,
    graphOptimizationLevel: entry.graph_optimization_level,
    executionProviders: entry.execution_providers,
    outputs: entry.outputs,
    workers: entry.workers,
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
