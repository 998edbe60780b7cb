/**
 * The transformers runtime's model: a Hugging Face folder served with no code. A batch of texts is tokenized, padded
 * to its longest and run as one `session.run` on longshore's ONNX session path (on the main thread or in session
 * threads), and each row's output is turned into the task's answer the way the Python pipelines do.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { JsonSchema } from '../../model/contract.js';
import { WorkerSessions, type RunTensor, type SessionBackend } from '../onnx-session.js';
import { createSession, type OnnxSettings } from '../onnx.js';
import type { ModelMemory, RuntimeModel } from '../runtime-model.js';
import { WATCH_WORKERS, type WorkerRestart } from '../worker-protocol.js';
import { classificationOutputSchema, classify, type ClassificationSettings } from './classification.js';
import { entitiesOutputSchema, tagEntities, type EntitySettings } from './entities.js';
import type { HfFolder, Task } from './hf-folder.js';
import { tokenOffsets, type NormalizerSettings } from './offsets.js';
import { embeddingOutputSchema, pool, type PoolingSettings } from './pooling.js';
import { TextEncoder, type Encoded } from './text-encoder.js';

export interface TextRecord {
  text: string;
  text_pair?: string;
}

export type TaskSettings =
  | { readonly task: 'text-classification'; readonly classification: ClassificationSettings }
  | { readonly task: 'token-classification'; readonly entities: EntitySettings; readonly normalizer: NormalizerSettings }
  | { readonly task: 'feature-extraction'; readonly pooling: PoolingSettings };

export interface TransformersSettings {
  readonly folder: HfFolder;
  readonly name: string;
  readonly maxLength: number;
  readonly head: TaskSettings;
  readonly session: OnnxSettings;
  /** How the settings were chosen (task from the architecture, pooling from sentence-transformers), for the description. */
  readonly notes: readonly string[];
}

/** The graph inputs a BERT-style export takes, fed from the encoded batch. */
const FEEDS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

export class TransformersModel implements RuntimeModel<TextRecord, Record<string, unknown>> {
  readonly qualified_name: string;
  readonly display_name: string;
  readonly description: string;
  readonly version = '1';
  readonly input_schema: JsonSchema;
  readonly output_schema: JsonSchema;
  /** Limitations to report (none: how the settings were chosen is in the description). */
  readonly notes: string[] = [];
  readonly #settings: TransformersSettings;
  readonly #encoder: TextEncoder;
  #session: SessionBackend | undefined;
  #feeds: (typeof FEEDS)[number][] = [];
  #output = '';
  /** The ONNX file's size when loaded: the floor of what one session holds. */
  #fileBytes = 0;
  #onRestart: ((restart: WorkerRestart) => void) | undefined;

  constructor(settings: TransformersSettings) {
    this.#settings = settings;
    this.qualified_name = settings.name;
    this.display_name = settings.name;
    // How settings were chosen (task from the architecture, pooling from sentence-transformers) is told in the description.
    this.description = `Hugging Face ${settings.head.task} model ${basename(settings.folder.dir)}${settings.notes.map((note) => `; ${note}`).join('')}`;
    this.#encoder = new TextEncoder(settings.folder.tokenizer, settings.folder.tokenizerConfig, settings.maxLength);
    this.input_schema = inputSchema(settings.head.task, settings.maxLength);
    this.output_schema = outputSchema(settings.head);
  }

  /** The pipeline task served (`text-classification`, `token-classification`, `feature-extraction`). */
  get task(): Task {
    return this.#settings.head.task;
  }

  /** One vector per text (feature-extraction pooled), and its size; undefined otherwise. */
  get embeddingSize(): number | undefined {
    const head = this.#settings.head;
    return head.task === 'feature-extraction' && head.pooling.pooling !== 'none' ? head.pooling.dimensions : undefined;
  }

  /** Tokens a text becomes, special tokens included and after truncation (OpenAI's `usage`). */
  countTokens(text: string): number {
    return this.#encoder.countTokens(text);
  }

  [WATCH_WORKERS](listener: (restart: WorkerRestart) => void): void {
    this.#onRestart = listener;
  }

  async load(): Promise<void> {
    this.#fileBytes = statSync(this.#settings.folder.onnxPath).size;
    const session = await createSession(this.#settings.folder.onnxPath, this.#settings.session);
    try {
      const inputs = session.inputMetadata.map((input) => input.name);
      const unknown = inputs.filter((name) => !(FEEDS as readonly string[]).includes(name));
      if (unknown.length > 0 || !inputs.includes('input_ids')) {
        throw new Error(
          `the ONNX graph ${this.#settings.folder.onnxPath} takes inputs ${inputs.join(', ')}; the transformers runtime feeds input_ids and, when the graph has them, attention_mask and token_type_ids`,
        );
      }
      this.#feeds = FEEDS.filter((name) => inputs.includes(name));
      this.#output = pickOutput(session.outputMetadata.map((output) => output.name), this.#settings.head.task);
      checkOutput(session.outputMetadata.find((output) => output.name === this.#output), this.#settings.head);
      if (session instanceof WorkerSessions) session.onRestart = (restart) => this.#onRestart?.(restart);
      this.#session = session;
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  async predict(input: TextRecord): Promise<Record<string, unknown>> {
    return (await this.predictBatch([input]))[0] as Record<string, unknown>;
  }

  /** Every text of the batch in one session.run, padded to the longest. */
  async predictBatch(inputs: TextRecord[]): Promise<Record<string, unknown>[]> {
    const session = this.#session;
    if (!session) throw new Error(`model ${this.qualified_name} is not loaded`);
    if (inputs.length === 0) return [];
    const encodings = inputs.map((input) => this.#encoder.encode(input.text, input.text_pair));
    const batch = this.#encoder.batch(encodings);
    const feeds: Record<string, RunTensor> = {};
    for (const name of this.#feeds) feeds[name] = { type: 'int64', dims: [batch.rows, batch.length], data: batch[name] };
    const result = (await session.run(feeds, [this.#output]))[this.#output] as RunTensor;
    const values = result.data as Float32Array;
    const perRow = values.length / batch.rows;
    return inputs.map((input, row) => this.#answer(input, encodings[row] as Encoded, values.subarray(row * perRow, (row + 1) * perRow), result.dims));
  }

  async memory(): Promise<ModelMemory> {
    const session = this.#session;
    if (!session) return { measured: false, bytes: {}, method: 'not loaded: holds no session' };
    const { sessions, workerHeap } = await session.memory();
    const size = this.#fileBytes;
    const bytes = { onnx_session: size * sessions, ...(workerHeap === undefined ? {} : { worker_heap: workerHeap }) };
    return { measured: true, bytes, method: `onnx_session: an estimate, the ONNX file's ${size} bytes × ${sessions} live session(s)` };
  }

  async unload(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.release();
  }

  #answer(input: TextRecord, encoding: Encoded, values: Float32Array, dims: readonly number[]): Record<string, unknown> {
    const head = this.#settings.head;
    if (head.task === 'text-classification') return classify(values, head.classification);
    const width = dims.at(-1) as number;
    if (head.task === 'feature-extraction') return { embedding: pool(values, encoding.ids.length, width, head.pooling) };
    const text = input.text.slice(0, encoding.covered);
    const offsets = tokenOffsets(text, encoding.tokens, encoding.special, head.normalizer, {
      continuingPrefix: head.entities.continuingPrefix,
      unkToken: head.entities.unkToken,
    });
    return { entities: tagEntities({ text, tokens: encoding.tokens, special: encoding.special, offsets, logits: values }, head.entities) };
  }
}

function inputSchema(task: Task, maxLength: number): JsonSchema {
  const text = {
    type: 'string',
    description: `The text. Longer than ${maxLength} tokens (with the special tokens), its end is cut off (truncation), as transformers does with truncation=True.`,
  };
  const properties: Record<string, unknown> = { text };
  if (task === 'text-classification') {
    properties.text_pair = { type: 'string', description: 'A second text, for models trained on pairs (e.g. natural language inference).' };
  }
  return { type: 'object', properties, required: ['text'], additionalProperties: false };
}

function outputSchema(head: TaskSettings): JsonSchema {
  if (head.task === 'text-classification') return classificationOutputSchema(head.classification);
  if (head.task === 'token-classification') return entitiesOutputSchema(head.entities);
  return embeddingOutputSchema(head.pooling);
}

/** The graph output a task reads: `logits` for the classifiers, `last_hidden_state` for embeddings, else the first. */
function pickOutput(outputs: readonly string[], task: Task): string {
  const wanted = task === 'feature-extraction' ? ['last_hidden_state', 'token_embeddings'] : ['logits'];
  const found = wanted.find((name) => outputs.includes(name)) ?? outputs[0];
  if (found === undefined) throw new Error('the ONNX graph has no outputs');
  return found;
}

type OutputMetadata = SessionBackend['outputMetadata'][number];

/**
 * The output must have the task's shape: [batch, labels] for text-classification, [batch, tokens, labels] for
 * token-classification, [batch, tokens, hidden] for feature-extraction (a folder served with the wrong `task` fails at
 * load, not with answers read from the wrong numbers).
 */
function checkOutput(output: OutputMetadata | undefined, head: TaskSettings): void {
  if (output === undefined || !output.isTensor) throw new Error('the ONNX graph has no tensor output to read');
  const shape = output.shape;
  const rank = head.task === 'text-classification' ? 2 : 3;
  const width = head.task === 'text-classification' ? head.classification.labels.length : head.task === 'token-classification' ? head.entities.labels.length : head.pooling.dimensions;
  const what = head.task === 'feature-extraction' ? 'hidden_size' : 'labels in id2label';
  const last = shape.at(-1);
  if (shape.length !== rank || (typeof last === 'number' && last !== width)) {
    throw new Error(
      `the ONNX graph's output '${output.name}' has shape [${shape.join(', ')}], but task ${head.task} needs [batch${rank === 3 ? ', tokens' : ''}, ${width}] (${width} ${what}): check task: (or export the model for that task)`,
    );
  }
  if (output.type !== 'float32') throw new Error(`the ONNX graph's output '${output.name}' is ${output.type}; the transformers runtime reads float32`);
}
