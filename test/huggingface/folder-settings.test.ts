/**
 * Unit tests of how the transformers runtime reads a Hugging Face folder and settles a model's settings: the two
 * layouts of sentence-transformers' Pooling config, labels and sizes from config.json, the task from the architecture,
 * and the entry problems for folders and keys it cannot serve (each naming the key and what to do).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TransformersModelEntry } from '../../src/config/schema.ts';
import { EntryProblem } from '../../src/errors.ts';
import { hiddenSizeOf, labelsOf, maxLengthOf, poolingOfMode, readHfFolder, taskOfArchitecture, type HfFolder } from '../../src/runtimes/transformers/hf-folder.ts';
import { createTransformersModel } from '../../src/runtimes/transformers/index.ts';
import { tempDir } from '../helpers/service.ts';
import { EMBEDDINGS, NER, SENTIMENT } from './hf-harness.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
let copies = 0;

/** A copy of a fixture folder, with `edit` applied to it. */
function folderLike(source: string, edit: (folder: string) => void = () => {}): string {
  const folder = join(dir, `copy-${copies++}`);
  cpSync(source, folder, { recursive: true });
  edit(folder);
  return folder;
}

function editJson(file: string, change: (value: Record<string, unknown>) => void): void {
  const value = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(value);
  writeFileSync(file, JSON.stringify(value));
}

function entry(extra: Partial<Record<string, unknown>> = {}): TransformersModelEntry {
  return { model_path: 'unused', intra_op_threads: 1, execution_providers: ['cpu'], workers: 0, ...extra } as unknown as TransformersModelEntry;
}

function problem(run: () => unknown): EntryProblem {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof EntryProblem, String(error));
    return error;
  }
  assert.fail('expected an EntryProblem');
}

const fakeFolder = (config: Record<string, unknown>, extra: Partial<HfFolder> = {}): HfFolder => ({ dir: '/m', config, tokenizer: {}, tokenizerConfig: {}, onnxPath: '/m/model.onnx', ...extra });

describe('reading a Hugging Face folder', () => {
  it('reads the classic sentence-transformers layout: mean pooling, normalize, max_seq_length', () => {
    const folder = readHfFolder(EMBEDDINGS);
    assert.deepEqual(folder.sentenceTransformers, { poolingMode: 'mean', normalize: true, maxSeqLength: 128 });
    assert.equal(taskOfArchitecture(folder), 'feature-extraction');
    assert.equal(folder.onnxPath, join(EMBEDDINGS, 'onnx', 'model.onnx'));
  });

  it("reads the newer layout sentence-transformers 6 saves (pooling_mode: 'cls', the new module names)", () => {
    const folder = folderLike(EMBEDDINGS, (path) => {
      writeFileSync(join(path, '1_Pooling', 'config.json'), JSON.stringify({ embedding_dimension: 32, pooling_mode: 'cls', include_prompt: true }));
      writeFileSync(
        join(path, 'modules.json'),
        JSON.stringify([
          { idx: 0, name: '0', path: '', type: 'sentence_transformers.base.modules.transformer.Transformer' },
          { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.sentence_transformer.modules.pooling.Pooling' },
          { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.base.modules.normalize.Normalize' },
        ]),
      );
    });
    assert.deepEqual(readHfFolder(folder).sentenceTransformers, { poolingMode: 'cls', normalize: true, maxSeqLength: 128 });
  });

  it('finds model.onnx at the top of the folder too, and says where it looked when there is none', () => {
    const top = folderLike(SENTIMENT, (path) => {
      cpSync(join(path, 'onnx', 'model.onnx'), join(path, 'model.onnx'));
      rmSync(join(path, 'onnx'), { recursive: true });
    });
    assert.equal(readHfFolder(top).onnxPath, join(top, 'model.onnx'));
    const none = folderLike(SENTIMENT, (path) => rmSync(join(path, 'onnx'), { recursive: true }));
    assert.throws(() => readHfFolder(none), /has no ONNX export \(looked for onnx\/model\.onnx and model\.onnx\)/);
  });

  it('names a file that is not JSON, and a modules.json that is not a list', () => {
    const broken = folderLike(SENTIMENT, (path) => writeFileSync(join(path, 'config.json'), '{nope'));
    assert.throws(() => readHfFolder(broken), /config\.json is not a JSON object/);
    const notList = folderLike(EMBEDDINGS, (path) => writeFileSync(join(path, 'modules.json'), '{}'));
    assert.throws(() => readHfFolder(notList), /modules\.json must be a list of modules/);
    const unreadable = folderLike(SENTIMENT, (path) => {
      rmSync(join(path, 'config.json'));
      mkdirSync(join(path, 'config.json'));
    });
    assert.throws(() => readHfFolder(unreadable), /config\.json cannot be read \(.*\): check the folder's permissions/);
    const badModules = folderLike(EMBEDDINGS, (path) => writeFileSync(join(path, 'modules.json'), '[oops'));
    assert.throws(() => readHfFolder(badModules), /modules\.json is not JSON/);
  });

  it('takes labels, sizes and lengths from config.json, with the fallbacks of transformers', () => {
    assert.deepEqual(labelsOf(fakeFolder({ id2label: { 1: 'b', 0: 'a' } })), ['a', 'b']);
    assert.deepEqual(labelsOf(fakeFolder({ num_labels: 3 })), ['LABEL_0', 'LABEL_1', 'LABEL_2']);
    assert.equal(hiddenSizeOf(fakeFolder({ d_model: 64 })), 64);
    assert.equal(hiddenSizeOf(fakeFolder({})), undefined);
    assert.equal(maxLengthOf(fakeFolder({ max_position_embeddings: 512 }, { tokenizerConfig: { model_max_length: 1e30 } })), 512);
    assert.equal(maxLengthOf(fakeFolder({})), 512);
  });

  it('tells the task from the architecture, and none from an unknown one', () => {
    assert.equal(taskOfArchitecture(fakeFolder({ architectures: ['DistilBertForSequenceClassification'] })), 'text-classification');
    assert.equal(taskOfArchitecture(fakeFolder({ architectures: ['RobertaForTokenClassification'] })), 'token-classification');
    assert.equal(taskOfArchitecture(fakeFolder({ architectures: ['BertModel'] })), 'feature-extraction');
    assert.equal(taskOfArchitecture(fakeFolder({ architectures: ['T5ForConditionalGeneration'] })), undefined);
    assert.equal(poolingOfMode('lasttoken'), undefined);
    assert.equal(poolingOfMode('max'), 'max');
  });
});

describe('a model entry the transformers runtime refuses', () => {
  it('needs task: when the architecture does not say it', () => {
    const folder = folderLike(SENTIMENT, (path) => editJson(join(path, 'config.json'), (config) => (config.architectures = ['T5ForConditionalGeneration'])));
    const error = problem(() => createTransformersModel(entry(), folder));
    assert.equal(error.key, 'task');
    assert.match(error.message, /set task: text-classification, token-classification or feature-extraction/);
  });

  it('names a Pooling mode it does not pool with, unless pooling: is set', () => {
    const folder = folderLike(EMBEDDINGS, (path) => writeFileSync(join(path, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode: 'lasttoken' })));
    const error = problem(() => createTransformersModel(entry(), folder));
    assert.equal(error.key, 'pooling');
    assert.match(error.message, /asks for 'lasttoken'.*set pooling: mean, cls, max or none/);
    assert.equal(createTransformersModel(entry({ pooling: 'cls' }), folder).embeddingSize, 32);
  });

  it('refuses token-classification with a tokenizer that is not WordPiece with a BERT normalizer', () => {
    const folder = folderLike(NER, (path) => editJson(join(path, 'tokenizer.json'), (tokenizer) => (tokenizer.normalizer = { type: 'Lowercase' })));
    assert.match(problem(() => createTransformersModel(entry(), folder)).message, /needs a WordPiece tokenizer with a BertNormalizer/);
  });

  it('refuses a classifier without labels and an embedding model without hidden_size', () => {
    const noLabels = folderLike(SENTIMENT, (path) => editJson(join(path, 'config.json'), (config) => delete config.id2label));
    assert.match(problem(() => createTransformersModel(entry(), noLabels)).message, /has no id2label \(or num_labels\), so it is no classifier/);
    const noSize = folderLike(EMBEDDINGS, (path) => editJson(join(path, 'config.json'), (config) => delete config.hidden_size));
    assert.match(problem(() => createTransformersModel(entry(), noSize)).message, /has no hidden_size/);
  });

  it('takes the keys that override the folder: function_to_apply, normalize, max_length', () => {
    const model = createTransformersModel(entry({ function_to_apply: 'sigmoid', max_length: 16 }), SENTIMENT);
    assert.match(JSON.stringify(model.output_schema), /sigmoid/);
    assert.match(JSON.stringify(model.input_schema), /Longer than 16 tokens/);
    const raw = createTransformersModel(entry({ normalize: false, pooling: 'none' }), EMBEDDINGS);
    assert.equal(raw.embeddingSize, undefined, 'one vector per token: not an embedding per text');
  });
});
