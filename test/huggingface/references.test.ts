/**
 * The same model gives the same answer in Python and in longshore: every reference case of the three fixture models
 * (Python transformers' pipelines and sentence-transformers), through REST one by one, REST all at once (so the texts
 * are padded into shared batches), /predictions, and V2 JSON with the texts as one BYTES tensor. The cases include the
 * empty string, an over-long text (truncated keeping [SEP], as Python does), words outside the vocabulary and
 * non-ASCII text (offsets in code points, [UNK] tokens reported with their original characters).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { batchSizes, json, postJson, serve, type Served } from '../batching-http/http-harness.ts';
import { assertMatches, EMBEDDINGS, NER, reference, SENTIMENT } from './hf-harness.ts';

const sentiment = reference('tiny-bert-sentiment');
const embeddings = reference('tiny-bert-embeddings');
const ner = reference('tiny-bert-ner');

let served: Served;

before(async () => {
  const models = [
    { qualified_name: 'sentiment', model_path: SENTIMENT },
    { qualified_name: 'sentiment_all', model_path: SENTIMENT, top_k: 'all' },
    { qualified_name: 'embeddings', model_path: EMBEDDINGS },
    { qualified_name: 'ner', model_path: NER },
    { qualified_name: 'ner_tokens', model_path: NER, aggregation: 'none' },
  ];
  served = await serve(JSON.stringify({ models }));
});

after(() => served.close());

async function predict(model: string, text: string): Promise<Record<string, unknown>> {
  const answer = await postJson(served.url, `/api/models/${model}/prediction`, { text });
  assert.equal(answer.status, 200, answer.body.toString());
  return json(answer);
}

async function predictions(model: string, texts: readonly string[]): Promise<Record<string, unknown>[]> {
  const answer = await postJson(served.url, `/api/models/${model}/predictions`, texts.map((text) => ({ text })));
  assert.equal(answer.status, 200, answer.body.toString());
  return json(answer);
}

interface V2Output {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

async function inferV2(model: string, texts: readonly string[]): Promise<Record<string, V2Output>> {
  const body = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [texts.length], data: texts }] };
  const answer = await postJson(served.url, `/v2/models/${model}/infer`, body);
  assert.equal(answer.status, 200, answer.body.toString());
  const outputs = json<{ outputs: V2Output[] }>(answer).outputs;
  return Object.fromEntries(outputs.map((output) => [output.name, output]));
}

describe('text-classification (tiny-bert-sentiment) answers as the Python pipeline', () => {
  it('gives every case its label and score over REST, one request per text', async () => {
    for (const item of sentiment.cases) assertMatches(await predict('sentiment', item.text), item.output?.[0], item.name);
  });

  it('gives the same answers when every case is sent at once, so the texts share padded batches', async () => {
    const before = await batchSizes(served.service, 'sentiment');
    const texts = [...sentiment.cases, ...sentiment.cases, ...sentiment.cases];
    const answers = await Promise.all(texts.map((item) => predict('sentiment', item.text)));
    answers.forEach((answer, index) => assertMatches(answer, texts[index]?.output?.[0], texts[index]?.name ?? ''));
    const after = await batchSizes(served.service, 'sentiment');
    assert.ok(after.batchesOverOneRow > before.batchesOverOneRow, 'concurrent requests were merged into batches');
  });

  it("answers the batch of the reference (3 texts of different lengths) as the pipeline's batch_size=3", async () => {
    assertMatches(await predictions('sentiment', sentiment.batch.texts), sentiment.batch.output, 'batch');
  });

  it('with top_k: all lists both labels, highest score first, as top_k=None does', async () => {
    for (const item of sentiment.cases) {
      const answer = await predict('sentiment_all', item.text);
      assertMatches(answer.labels, item.output_top_k_none, item.name);
      assert.equal(answer.label, item.output_top_k_none?.[0]?.label);
    }
  });

  it('cuts an over-long text to 128 tokens keeping [SEP], as truncation=True does in Python', async () => {
    assertMatches(await predict('sentiment', sentiment.over_max_length.text), sentiment.over_max_length.output?.[0], 'over_max_length');
  });

  it('answers V2 JSON: text as a BYTES tensor in, label (BYTES) and score (FP64) out', async () => {
    const outputs = await inferV2('sentiment', sentiment.cases.map((item) => item.text));
    assert.deepEqual(outputs.label?.shape, [sentiment.cases.length]);
    assert.equal(outputs.score?.datatype, 'FP64');
    assert.deepEqual(outputs.label?.data, sentiment.cases.map((item) => item.output?.[0]?.label));
    assertMatches(outputs.score?.data, sentiment.cases.map((item) => item.output?.[0]?.score), 'V2 scores');
  });
});

describe('feature-extraction (tiny-bert-embeddings) answers as sentence-transformers', () => {
  it('pools and normalizes as the folder\'s sentence-transformers modules say, for every case', async () => {
    for (const item of embeddings.cases) assertMatches((await predict('embeddings', item.text)).embedding, item.embedding, item.name);
  });

  it('gives the same vectors for a padded batch and for concurrent requests', async () => {
    const batch = await predictions('embeddings', embeddings.batch.texts);
    assertMatches(batch.map((answer) => answer.embedding), embeddings.batch.embeddings, 'batch');
    const answers = await Promise.all(embeddings.cases.map((item) => predict('embeddings', item.text)));
    answers.forEach((answer, index) => assertMatches(answer.embedding, embeddings.cases[index]?.embedding, `concurrent ${index}`));
  });

  it('truncates an over-long text as Python does', async () => {
    assertMatches((await predict('embeddings', embeddings.over_max_length.text)).embedding, embeddings.over_max_length.embedding, 'over_max_length');
  });

  it('answers V2 with one FP64 row of 32 per text', async () => {
    const outputs = await inferV2('embeddings', embeddings.batch.texts);
    assert.deepEqual(outputs.embedding?.shape, [embeddings.batch.texts.length, 32]);
    assertMatches(outputs.embedding?.data, embeddings.batch.embeddings?.flat(), 'V2 embedding');
  });
});

describe('token-classification (tiny-bert-ner) answers as the Python pipeline', () => {
  it('groups entities as aggregation_strategy="simple", offsets in code points, for every case', async () => {
    for (const item of ner.cases) assertMatches((await predict('ner', item.text)).entities, item.entities, item.name);
  });

  it('with aggregation: none answers one entry per token, as the pipeline without aggregation', async () => {
    for (const item of ner.cases) assertMatches((await predict('ner_tokens', item.text)).entities, item.tokens_aggregation_none, item.name);
  });

  it('answers the reference batch and concurrent requests the same as one by one', async () => {
    const batch = await predictions('ner', ner.batch.texts);
    assertMatches(batch.map((answer) => answer.entities), ner.batch.entities, 'batch');
    const answers = await Promise.all(ner.cases.map((item) => predict('ner', item.text)));
    answers.forEach((answer, index) => assertMatches(answer.entities, ner.cases[index]?.entities, `concurrent ${index}`));
  });

  it('reports offsets of text after an emoji in code points (Python), not UTF-16 units', async () => {
    const item = ner.cases.find((candidate) => candidate.name === 'non_ascii');
    assert.ok(item, 'the reference has a non-ASCII case');
    const paris = ((await predict('ner', item.text)).entities as { word: string; start: number; end: number }[]).find((entity) => entity.word === 'paris');
    assert.deepEqual(paris && [paris.start, paris.end], [21, 26]);
    assert.notEqual(item.text.indexOf('Paris'), 21, 'in a JS string Paris starts elsewhere, so the test can tell the two apart');
  });

  it('answers V2 with the entities of each text as a JSON BYTES element', async () => {
    const outputs = await inferV2('ner', ner.cases.map((item) => item.text));
    assert.equal(outputs.entities?.datatype, 'BYTES');
    const parsed = outputs.entities?.data.map((element) => JSON.parse(element as string) as unknown);
    assertMatches(parsed, ner.cases.map((item) => item.entities), 'V2 entities');
  });
});
