/**
 * A Hugging Face entry that cannot be served is refused before the server listens, naming the file, line and key and
 * saying how to fix it; bad input to a served model gets a 400 naming the field, over REST and V2, never a 500.
 */
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createService } from '../../src/service.ts';
import { assertRestError, assertV2Error, json, postJson, serve, type Served } from '../batching-http/http-harness.ts';
import { buildService, tempDir } from '../helpers/service.ts';
import { HF_DIR, NER, SENTIMENT } from './hf-harness.ts';

async function refusal(yaml: string, dir = HF_DIR): Promise<string> {
  let message = '';
  // Schema problems are found while parsing, entry problems while the models are created: both before listening.
  await assert.rejects(async () => createService(parseConfig(yaml, '/cfg/longshore.yaml', dir), pino({ level: 'silent' })), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    message = error.message;
    return true;
  });
  return message;
}

describe('Hugging Face entries refused at start', () => {
  it('refuses a hub id and says to download the folder first (nothing is fetched at run time)', async () => {
    const message = await refusal('models:\n  - model_path: distilbert/distilbert-base-uncased-finetuned-sst-2-english\n');
    assert.match(message, /longshore\.yaml:2 models\[0\]\.model_path: .*Hugging Face hub id, download the model first/);
    assert.match(message, /huggingface-cli download distilbert\/distilbert-base-uncased-finetuned-sst-2-english --local-dir/);
  });

  it('refuses a key of another task, naming the key and the task the model has', async () => {
    const message = await refusal('models:\n  - model_path: ./tiny-bert-sentiment\n    aggregation: first\n');
    assert.match(message, /longshore\.yaml:3 models\[0\]\.aggregation: applies only to task token-classification; this model's task is text-classification/);
  });

  it('refuses an unknown task with the tasks it knows', async () => {
    const message = await refusal('models:\n  - model_path: ./tiny-bert-sentiment\n    task: summarization\n');
    assert.match(message, /models\[0\]\.task: must be one of "text-classification", "token-classification", "feature-extraction"/);
  });

  it('refuses a max_length beyond the position embeddings', async () => {
    const message = await refusal('models:\n  - model_path: ./tiny-bert-sentiment\n    max_length: 512\n');
    assert.match(message, /max_length: is 512, but the model has 128 positions/);
  });

  it('refuses a folder without an ONNX export, saying where it looked and how to export', async () => {
    const dir = tempDir();
    after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(SENTIMENT, join(dir, 'plain'), { recursive: true });
    rmSync(join(dir, 'plain', 'onnx'), { recursive: true });
    const message = await refusal('models:\n  - model_path: ./plain\n', dir);
    assert.match(message, /model_path: .*plain has no ONNX export \(looked for onnx\/model\.onnx and model\.onnx\): export it first/);
  });

  it('refuses a folder without tokenizer.json', async () => {
    const dir = tempDir();
    after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(SENTIMENT, join(dir, 'notok'), { recursive: true });
    rmSync(join(dir, 'notok', 'tokenizer.json'));
    assert.match(await refusal('models:\n  - model_path: ./notok\n', dir), /model_path: .*tokenizer\.json is missing/);
  });
});

describe('a model served for the wrong task', () => {
  it('fails at load, naming the output shape the task needs, instead of answering from the wrong numbers', async () => {
    const service = await buildService(JSON.stringify({ models: [{ qualified_name: 'wrong', model_path: SENTIMENT, task: 'feature-extraction', required: false }] }));
    after(() => service.close());
    const model = service.registry.require('wrong');
    assert.equal(model.state, 'failed');
    assert.match(model.error ?? '', /output 'logits' has shape \[batch_size, 2\], but task feature-extraction needs \[batch, tokens, 32\]/);
  });
});

describe('bad input to a Hugging Face model', () => {
  let served: Served;
  before(async () => {
    served = await serve(JSON.stringify({ models: [{ qualified_name: 'sentiment', model_path: SENTIMENT }, { qualified_name: 'ner', model_path: NER }] }));
  });
  after(() => served.close());

  it('answers 400 naming the field for a missing, mistyped or unknown field', async () => {
    assertRestError(await postJson(served.url, '/api/models/sentiment/prediction', { txt: 'hi' }), 400, 'SchemaValidationError', /\/text is required/);
    assertRestError(await postJson(served.url, '/api/models/sentiment/prediction', { text: 5 }), 400, 'SchemaValidationError', /\/text/);
    assertRestError(await postJson(served.url, '/api/models/ner/prediction', { text: 'a', text_pair: 'b' }), 400, 'SchemaValidationError', /text_pair/);
  });

  it('answers V2 400 for a text tensor of numbers', async () => {
    const body = { inputs: [{ name: 'text', datatype: 'FP32', shape: [1], data: [1] }] };
    assertV2Error(await postJson(served.url, '/v2/models/sentiment/infer', body), 400, /text/);
  });

  it('serves a megabyte of text: its start, truncated, as Python would answer it', async () => {
    const long = 'what a wonderful day. '.repeat(50_000);
    const answer = await postJson(served.url, '/api/models/sentiment/prediction', { text: long });
    assert.equal(answer.status, 200, answer.body.toString().slice(0, 300));
    const short = await postJson(served.url, '/api/models/sentiment/prediction', { text: 'what a wonderful day. '.repeat(40) });
    assert.deepEqual(json(answer), json(short), 'both are cut to the same 128 tokens');
  });
});
