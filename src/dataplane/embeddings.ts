/**
 * Embeddings over the served models (`POST /v1/embeddings`, docs/openai.md): which models can answer (a pooled
 * feature-extraction model: one vector per text), the `dimensions` check, the texts' vectors through the model's batch
 * path (as a /predictions call: batching, limits, deadlines, metrics, prediction log), and the tokens they used. The
 * protocol's body (OpenAI's names, base64) is the adapter's; this module knows nothing of HTTP.
 */
import { InferenceError, SchemaValidationError, UnsupportedModelError } from '../errors.js';
import type { TransformersModel } from '../runtimes/transformers/transformers-model.js';

/**
 * What an embeddings call reads of a runtime model: the transformers runtime's model has these (a type-only import,
 * so the runtime and its tokenizer load only when a model uses them). Any other model lacks `countTokens`.
 */
type EmbeddingSource = Pick<TransformersModel, 'task' | 'embeddingSize' | 'countTokens'>;

/** A model that gives one vector per text: its vector size and its token count. */
export interface EmbeddingModel {
  readonly size: number;
  countTokens(text: string): number;
}

/** The texts' vectors, in order, and the tokens the texts became (special tokens included, after truncation). */
export interface Embeddings {
  readonly vectors: number[][];
  readonly promptTokens: number;
}

/** The embedding view of each runtime model that has one, made on its first embeddings call. */
const views = new WeakMap<object, EmbeddingModel>();

/** The model as an embedding model, or 400 UnsupportedModelError saying why it is not one. `runtime` is `served.model`. */
export function embeddingModelOf(name: string, runtime: object): EmbeddingModel {
  const known = views.get(runtime);
  if (known !== undefined) return known;
  const source = runtime as Partial<EmbeddingSource>;
  if (typeof source.countTokens !== 'function' || typeof source.task !== 'string') {
    throw new UnsupportedModelError(
      `model '${name}' is not a Hugging Face feature-extraction model, so it gives no embeddings; /v1/embeddings serves models of the transformers runtime with task: feature-extraction`,
      { details: [{ path: '/model', message: 'is not a feature-extraction model' }] },
    );
  }
  if (source.task !== 'feature-extraction') {
    throw new UnsupportedModelError(
      `model '${name}' serves task ${source.task}, not feature-extraction, so it gives no embeddings; call it through POST /api/models/${name}/predictions instead`,
      { details: [{ path: '/model', message: `is a ${source.task} model` }] },
    );
  }
  const size = source.embeddingSize;
  if (size === undefined) {
    throw new UnsupportedModelError(
      `model '${name}' has pooling: none (one vector per token, not one per text); give its entry pooling: mean or cls to serve it on /v1/embeddings`,
      { details: [{ path: '/model', message: 'has pooling: none' }] },
    );
  }
  const view: EmbeddingModel = { size, countTokens: source.countTokens.bind(runtime) };
  views.set(runtime, view);
  return view;
}

/** 400 unless `dimensions` (when given) is at most the model's vector size. */
export function checkDimensions(name: string, model: EmbeddingModel, dimensions: number | undefined): void {
  if (dimensions !== undefined && dimensions > model.size) {
    throw new SchemaValidationError(`dimensions is ${dimensions}, but model '${name}' gives vectors of ${model.size}; ask for ${model.size} or fewer, or leave dimensions out`, {
      details: [{ path: '/dimensions', message: `must be at most ${model.size}` }],
    });
  }
}

/**
 * The vectors of the model's answers (each `{embedding: number[]}` of the model's size; 500 otherwise, e.g. a decorator
 * that changed the output), cut to `dimensions` and made unit length again when it is given.
 */
export function vectorsOf(name: string, model: EmbeddingModel, outputs: readonly unknown[], dimensions: number | undefined): number[][] {
  return outputs.map((output, index) => {
    const embedding = (output as { embedding?: unknown } | null)?.embedding;
    if (!Array.isArray(embedding) || embedding.length !== model.size) {
      throw new InferenceError(`model '${name}' answered text ${index} without an embedding of ${model.size} numbers; /v1/embeddings needs the model's own {embedding} output (check its decorators)`);
    }
    return dimensions === undefined ? (embedding as number[]) : truncated(embedding as number[], dimensions);
  });
}

/** The first `n` values, divided by their L2 norm (as OpenAI's `dimensions`); a zero vector stays zero. */
export function truncated(vector: readonly number[], n: number): number[] {
  const head = vector.slice(0, n);
  let sum = 0;
  for (const value of head) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm === 0) return head;
  for (let i = 0; i < head.length; i++) head[i] = (head[i] as number) / norm;
  return head;
}

/** Tokens of every text, as OpenAI's `usage.prompt_tokens` counts them. */
export function countTokens(model: EmbeddingModel, texts: readonly string[]): number {
  let total = 0;
  for (const text of texts) total += model.countTokens(text);
  return total;
}
