/**
 * The runtimes below the model layer: a module (a user's class) and an ONNX file. model/runtime-table.ts is the one
 * table that picks between them (and graphs) for an entry.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OnnxModelEntry, TransformersModelEntry } from '../config/schema.js';
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
  const { OnnxModel } = await importOnnxRuntime(() => import('./onnx.js'), 'an .onnx file');
  return new OnnxModel(path, {
    intraOpThreads: entry.intra_op_threads,
    interOpThreads: entry.inter_op_threads,
    graphOptimizationLevel: entry.graph_optimization_level,
    executionProviders: entry.execution_providers,
    outputs: entry.outputs,
    workers: entry.workers,
  });
}

/**
 * A Hugging Face model folder (transformers/): its tokenizer (@huggingface/tokenizers, pure JavaScript) and the ONNX
 * session path, both imported only when a config has such a model. A hub id is refused: nothing is downloaded.
 */
export async function createTransformersModel(entry: TransformersModelEntry, dir: string): Promise<Model> {
  const path = resolve(dir, entry.model_path);
  if (!existsSync(path)) {
    const hubId = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(entry.model_path) || /^[A-Za-z0-9][\w.-]*$/.test(entry.model_path);
    throw new EntryProblem(
      'model_path',
      hubId
        ? `'${entry.model_path}' is not a folder here (${path}); if it is a Hugging Face hub id, download the model first, since longshore never fetches at run time: ` +
            `\`huggingface-cli download ${entry.model_path} --local-dir ./models/${entry.model_path.split('/').at(-1)}\` (with an ONNX export in onnx/model.onnx), then point model_path at that folder`
        : `folder not found: ${path} (a Hugging Face model folder with config.json, tokenizer.json and onnx/model.onnx)`,
    );
  }
  const { createTransformersModel: create } = await importOnnxRuntime(() => import('./transformers/index.js'), 'a Hugging Face model');
  return create(entry, path);
}

async function importOnnxRuntime<Module>(load: () => Promise<Module>, what: string): Promise<Module> {
  try {
    return await load();
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !message.includes("'onnxruntime-node'")) throw error;
    throw new EntryProblem(
      'model_path',
      `serving ${what} needs the package 'onnxruntime-node', which is not installed: run \`npm install onnxruntime-node\` ` +
        'in your project (offline or in CI, skip its CUDA download first: see "ONNX models offline, in CI and with CUDA" in longshore\'s README)',
    );
  }
}
