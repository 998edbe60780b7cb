/**
 * The files an entry's model is read from, as written in the entry (relative to the config's directory): what a reload
 * compares (size and time) and what `--watch` watches. An ONNX file; a code model's module; a Hugging Face folder's
 * files (config, tokenizer, ONNX export, sentence-transformers settings). Package specifiers and `file:` URLs are left
 * out. Graphs read no file.
 */
import { join } from 'node:path';
import type { ModelEntry } from './schema.js';

/** The files of a Hugging Face folder that change what the model answers. */
export const HF_FOLDER_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  join('onnx', 'model.onnx'),
  'model.onnx',
  'modules.json',
  join('1_Pooling', 'config.json'),
  'sentence_bert_config.json',
] as const;

export function entryFiles(entry: ModelEntry): string[] {
  if (entry.runtime === 'onnx') return [entry.model_path];
  if (entry.runtime === 'transformers') return HF_FOLDER_FILES.map((file) => join(entry.model_path, file));
  if (entry.runtime === 'module') {
    const file = entry.class_path.split('#')[0] as string;
    return /^(\.|\/|[A-Za-z]:)/.test(file) && !file.startsWith('file:') ? [file] : [];
  }
  return [];
}
