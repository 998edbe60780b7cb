/**
 * A Hugging Face model folder as transformers saves it (config.json, tokenizer.json, tokenizer_config.json and an
 * ONNX export in onnx/model.onnx or model.onnx), plus the sentence-transformers files when present (modules.json,
 * the Pooling module's config in either of its two layouts, sentence_bert_config.json). Read from disk only.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Pooling } from './pooling.js';

export type Task = 'text-classification' | 'token-classification' | 'feature-extraction';

export interface HfFolder {
  readonly dir: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly tokenizer: object;
  readonly tokenizerConfig: Readonly<Record<string, unknown>>;
  readonly onnxPath: string;
  /** What the sentence-transformers files say, when the folder has them. */
  readonly sentenceTransformers?: {
    /** The Pooling module's mode as written (`mean`, `cls`, `max`, `lasttoken`, ...); see poolingOfMode. */
    readonly poolingMode?: string;
    readonly normalize: boolean;
    readonly maxSeqLength?: number;
  };
}

/** A problem with the folder, naming the file; the runtime reports it against `model_path`. */
export class FolderProblem extends Error {}

export const ONNX_FILES = ['onnx/model.onnx', 'model.onnx'] as const;

export function readHfFolder(dir: string): HfFolder {
  const config = readJson(dir, 'config.json', 'the model config (transformers writes it with save_pretrained)');
  const tokenizer = readJson(dir, 'tokenizer.json', 'the fast tokenizer (save the tokenizer with a transformers "fast" tokenizer, or convert it)');
  const tokenizerConfig = existsSync(join(dir, 'tokenizer_config.json')) ? readJson(dir, 'tokenizer_config.json', '') : {};
  const onnx = ONNX_FILES.map((file) => join(dir, file)).find((path) => existsSync(path) && statSync(path).isFile());
  if (onnx === undefined) {
    throw new FolderProblem(
      `${dir} has no ONNX export (looked for ${ONNX_FILES.join(' and ')}): export it first, e.g. \`optimum-cli export onnx --model ${dir} ${join(dir, 'onnx')}\``,
    );
  }
  const sentenceTransformers = readSentenceTransformers(dir);
  return { dir, config, tokenizer, tokenizerConfig, onnxPath: onnx, ...(sentenceTransformers ? { sentenceTransformers } : {}) };
}

/** The pipeline task the model's architecture was trained for (`BertForTokenClassification` → token-classification). */
export function taskOfArchitecture(folder: HfFolder): Task | undefined {
  if (folder.sentenceTransformers !== undefined) return 'feature-extraction';
  const architectures = Array.isArray(folder.config.architectures) ? (folder.config.architectures as unknown[]) : [];
  for (const architecture of architectures) {
    if (typeof architecture !== 'string') continue;
    if (architecture.endsWith('ForSequenceClassification')) return 'text-classification';
    if (architecture.endsWith('ForTokenClassification')) return 'token-classification';
    if (architecture.endsWith('Model')) return 'feature-extraction';
  }
  return undefined;
}

/** config.json's id2label as a list by id (LABEL_n where it has none). */
export function labelsOf(folder: HfFolder): string[] {
  const id2label = folder.config.id2label;
  const entries = typeof id2label === 'object' && id2label !== null ? Object.entries(id2label as Record<string, unknown>) : [];
  const count = Math.max(entries.length, typeof folder.config.num_labels === 'number' ? folder.config.num_labels : 0);
  const labels = Array.from({ length: count }, (_, id) => `LABEL_${id}`);
  for (const [id, label] of entries) if (Number.isInteger(Number(id)) && typeof label === 'string') labels[Number(id)] = label;
  return labels;
}

/** The width of the token vectors (hidden_size, or the names other architectures use). */
export function hiddenSizeOf(folder: HfFolder): number | undefined {
  for (const key of ['hidden_size', 'd_model', 'dim', 'n_embd']) {
    const value = folder.config[key];
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  }
  return undefined;
}

/** The longest input the model takes: the tokenizer's model_max_length, capped by the position embeddings. */
export function maxLengthOf(folder: HfFolder): number {
  const limits = [folder.sentenceTransformers?.maxSeqLength, folder.tokenizerConfig.model_max_length, folder.config.max_position_embeddings];
  const known = limits.filter((value): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 1e9);
  return known.length > 0 ? Math.min(...known) : 512;
}

function readJson(dir: string, file: string, what: string): Record<string, unknown> {
  const path = join(dir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new FolderProblem(`${path} is missing${what ? `: ${what}` : ''}`);
    throw new FolderProblem(`${path} cannot be read (${(error as Error).message}): check the folder's permissions`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new FolderProblem(`${path} is not a JSON object: ${(error as Error).message}`);
  }
}

/**
 * sentence-transformers' modules: Pooling's mode (the classic `pooling_mode_mean_tokens: true` keys or the newer
 * `pooling_mode: "mean"`), whether a Normalize module follows, and sentence_bert_config.json's max_seq_length.
 */
function readSentenceTransformers(dir: string): HfFolder['sentenceTransformers'] {
  if (!existsSync(join(dir, 'modules.json'))) return undefined;
  let modules: unknown;
  try {
    modules = JSON.parse(readFileSync(join(dir, 'modules.json'), 'utf8'));
  } catch (error) {
    throw new FolderProblem(`${join(dir, 'modules.json')} is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(modules)) throw new FolderProblem(`${join(dir, 'modules.json')} must be a list of modules`);
  let poolingMode: string | undefined;
  let normalize = false;
  for (const module of modules as Record<string, unknown>[]) {
    const type = typeof module?.type === 'string' ? module.type : '';
    if (type.endsWith('.Normalize')) normalize = true;
    if (type.endsWith('.Pooling')) poolingMode = poolingModeOf(dir, typeof module.path === 'string' ? module.path : '');
  }
  const bert = existsSync(join(dir, 'sentence_bert_config.json')) ? readJson(dir, 'sentence_bert_config.json', '') : {};
  const maxSeqLength = typeof bert.max_seq_length === 'number' ? bert.max_seq_length : undefined;
  return { ...(poolingMode !== undefined ? { poolingMode } : {}), normalize, ...(maxSeqLength ? { maxSeqLength } : {}) };
}

function poolingModeOf(dir: string, path: string): string {
  const config = readJson(dir, join(path, 'config.json'), "the Pooling module's settings");
  if (typeof config.pooling_mode === 'string') return config.pooling_mode;
  return Object.entries(config)
    .filter(([key, value]) => key.startsWith('pooling_mode_') && value === true)
    .map(([key]) => key.slice('pooling_mode_'.length).replace(/_tokens?$/, ''))
    .join('+');
}

/** A Pooling module's mode as longshore's pooling, undefined for a mode longshore does not pool with. */
export function poolingOfMode(mode: string): Pooling | undefined {
  return mode === 'mean' || mode === 'cls' || mode === 'max' ? mode : undefined;
}
