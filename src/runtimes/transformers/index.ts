/**
 * The transformers runtime's entry point, imported (dynamically, by runtimes/index.ts) only for a `transformers`
 * entry: reads the model folder, settles the task and its options (entry keys over the folder's own settings, over
 * transformers' defaults) and creates the model. Problems name the entry key at fault.
 */
import { basename } from 'node:path';
import type { TransformersModelEntry } from '../../config/schema.js';
import { EntryProblem } from '../../errors.js';
import { defaultFunction } from './classification.js';
import { FolderProblem, hiddenSizeOf, labelsOf, maxLengthOf, poolingOfMode, readHfFolder, taskOfArchitecture, type HfFolder, type Task } from './hf-folder.js';
import type { NormalizerSettings } from './offsets.js';
import type { Pooling } from './pooling.js';
import { TransformersModel, type TaskSettings } from './transformers-model.js';

/** Keys that apply to one task only. */
const TASK_KEYS: Readonly<Record<string, Task>> = {
  aggregation: 'token-classification',
  pooling: 'feature-extraction',
  normalize: 'feature-extraction',
  top_k: 'text-classification',
  function_to_apply: 'text-classification',
};

export function createTransformersModel(entry: TransformersModelEntry, path: string): TransformersModel {
  let folder: HfFolder;
  try {
    folder = readHfFolder(path);
  } catch (error) {
    if (error instanceof FolderProblem) throw new EntryProblem('model_path', error.message);
    throw error;
  }
  const notes: string[] = [];
  const task = entry.task ?? taskOfArchitecture(folder);
  if (task === undefined) {
    throw new EntryProblem('task', `${path}/config.json names no architecture longshore can tell the task from: set task: text-classification, token-classification or feature-extraction`);
  }
  if (entry.task === undefined) notes.push(`task ${task}, from config.json's architectures${folder.sentenceTransformers ? ' (a sentence-transformers folder)' : ''}`);
  for (const [key, only] of Object.entries(TASK_KEYS)) {
    if ((entry as Record<string, unknown>)[key] !== undefined && only !== task) throw new EntryProblem(key, `applies only to task ${only}; this model's task is ${task}`);
  }
  const positions = maxLengthOf(folder);
  const maxLength = entry.max_length ?? positions;
  if (typeof folder.config.max_position_embeddings === 'number' && maxLength > folder.config.max_position_embeddings) {
    throw new EntryProblem('max_length', `is ${maxLength}, but the model has ${folder.config.max_position_embeddings} positions (config.json max_position_embeddings)`);
  }
  const head = taskSettings(entry, folder, task, notes);
  const session = {
    intraOpThreads: entry.intra_op_threads,
    executionProviders: entry.execution_providers,
    workers: entry.workers,
    ...(entry.inter_op_threads === undefined ? {} : { interOpThreads: entry.inter_op_threads }),
    ...(entry.graph_optimization_level === undefined ? {} : { graphOptimizationLevel: entry.graph_optimization_level }),
  };
  const name = basename(path).replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'model';
  try {
    return new TransformersModel({ folder, name, maxLength, head, session, notes });
  } catch (error) {
    throw new EntryProblem('model_path', `${path}/tokenizer.json could not be read as a tokenizer: ${(error as Error).message}`);
  }
}

function taskSettings(entry: TransformersModelEntry, folder: HfFolder, task: Task, notes: string[]): TaskSettings {
  if (task === 'text-classification') {
    const labels = labelsOf(folder);
    if (labels.length === 0) throw new EntryProblem('task', `${folder.dir}/config.json has no id2label (or num_labels), so it is no classifier`);
    const functionToApply = entry.function_to_apply ?? defaultFunction(folder.config.problem_type, labels.length);
    return { task, classification: { labels, functionToApply, topK: entry.top_k ?? 1 } };
  }
  if (task === 'token-classification') {
    const labels = labelsOf(folder);
    if (labels.length === 0) throw new EntryProblem('task', `${folder.dir}/config.json has no id2label (or num_labels), so it is no token classifier`);
    const model = (folder.tokenizer as { model?: { type?: unknown; continuing_subword_prefix?: unknown; unk_token?: unknown } }).model;
    const normalizer = normalizerOf(folder);
    if (model?.type !== 'WordPiece' || normalizer === undefined) {
      throw new EntryProblem(
        'task',
        'token-classification needs a WordPiece tokenizer with a BertNormalizer (BERT and its kin): the entities\' start/end offsets are found by matching word pieces to the text',
      );
    }
    const continuingPrefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##';
    const unkToken = typeof model.unk_token === 'string' ? model.unk_token : undefined;
    return { task, normalizer, entities: { labels, aggregation: entry.aggregation ?? 'simple', unkToken, continuingPrefix, ignore: ['O'] } };
  }
  const dimensions = hiddenSizeOf(folder);
  if (dimensions === undefined) throw new EntryProblem('model_path', `${folder.dir}/config.json has no hidden_size, so the embedding size is unknown`);
  const fromFolder = folder.sentenceTransformers;
  let pooling: Pooling = entry.pooling ?? 'none';
  if (entry.pooling === undefined && fromFolder?.poolingMode !== undefined) {
    const known = poolingOfMode(fromFolder.poolingMode);
    if (known === undefined) {
      throw new EntryProblem('pooling', `the folder's sentence-transformers Pooling module asks for '${fromFolder.poolingMode}', which longshore does not pool with: set pooling: mean, cls, max or none`);
    }
    pooling = known;
    notes.push(`pooling ${pooling}${fromFolder.normalize ? ' and normalize' : ''}, from the sentence-transformers files`);
  }
  const normalize = entry.normalize ?? fromFolder?.normalize ?? false;
  return { task, pooling: { pooling, normalize, dimensions } };
}

/** The BERT normalizer's settings from tokenizer.json (strip_accents null follows lowercase, as in tokenizers). */
function normalizerOf(folder: HfFolder): NormalizerSettings | undefined {
  const normalizer = (folder.tokenizer as { normalizer?: Record<string, unknown> | null }).normalizer;
  if (normalizer?.type !== 'BertNormalizer') return undefined;
  const lowercase = normalizer.lowercase !== false;
  return {
    cleanText: normalizer.clean_text !== false,
    chineseChars: normalizer.handle_chinese_chars !== false,
    stripAccents: typeof normalizer.strip_accents === 'boolean' ? normalizer.strip_accents : lowercase,
    lowercase,
  };
}
