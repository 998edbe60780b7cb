/**
 * POST /v1/embeddings with the official `openai` npm client against a real server serving the self-made sentence
 * embedding model: every reference case of Python's sentence-transformers (within 1e-4), single and as one array,
 * the empty string, the over-long text, float and base64, `dimensions`, usage counts; the refusals in longshore's
 * error body (raw fetch); the texts go through the model's batch path (its metrics); API keys with the client's Bearer.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { RunningServer } from '../../src/server.ts';
import { postJson, startServerFromFile } from '../helpers/server.ts';
import { REPO_ROOT, writeConfig } from '../helpers/service.ts';

const HF = join(REPO_ROOT, 'test/fixtures/hf');
const EMBEDDINGS = join(HF, 'tiny-bert-embeddings');

interface Reference {
  embedding_dimension: number;
  cases: { name: string; text: string; num_tokens: number; embedding: number[] }[];
  over_max_length: { text: string; num_tokens_truncated: number; embedding: number[] };
  batch: { texts: string[]; embeddings: number[][] };
}
const REFERENCE = JSON.parse(readFileSync(join(HF, 'tiny-bert-embeddings.reference.json'), 'utf8')) as Reference;
const MAX_RECORDS = 20;

type ErrorBody = { type: string; message: string; details: { path: string; message: string }[] };

function assertClose(actual: readonly number[], expected: readonly number[], what: string, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs((actual[i] as number) - (expected[i] as number)) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function fromBase64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

function unitTruncation(vector: readonly number[], n: number): number[] {
  const head = vector.slice(0, n);
  const norm = Math.hypot(...head);
  return head.map((value) => value / norm);
}

function modelsYaml(extra = ''): string {
  return (
    `models:\n` +
    `  - {qualified_name: emb, model_path: ${EMBEDDINGS}}\n` +
    `  - {qualified_name: tokens, model_path: ${EMBEDDINGS}, pooling: none}\n` +
    `  - {qualified_name: sentiment, model_path: ${join(HF, 'tiny-bert-sentiment')}}\n` +
    `limits:\n  predict:\n    max_records: ${MAX_RECORDS}\n${extra}`
  );
}

describe('POST /v1/embeddings with the openai client', () => {
  let server: RunningServer;
  let client: OpenAI;
  before(async () => {
    server = await startServerFromFile(writeConfig(modelsYaml()));
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
  });
  after(() => server.close());

  test('every reference case, one text per request, equals sentence-transformers within 1e-4 (float), with its token count', async () => {
    for (const reference of REFERENCE.cases) {
      const answer = await client.embeddings.create({ model: 'emb', input: reference.text, encoding_format: 'float' });
      assert.equal(answer.object, 'list');
      assert.equal(answer.model, 'emb');
      assert.equal(answer.data.length, 1);
      assert.equal(answer.data[0]?.object, 'embedding');
      assert.equal(answer.data[0]?.index, 0);
      assertClose(answer.data[0]?.embedding as number[], reference.embedding, reference.name);
      assert.deepEqual(answer.usage, { prompt_tokens: reference.num_tokens, total_tokens: reference.num_tokens }, reference.name);
    }
  });

  test("every reference case as one array request, in the client's default (base64, decoded by the client)", async () => {
    const answer = await client.embeddings.create({ model: 'emb', input: REFERENCE.cases.map((reference) => reference.text) });
    assert.deepEqual(answer.data.map((item) => item.index), REFERENCE.cases.map((_, index) => index));
    REFERENCE.cases.forEach((reference, index) => assertClose(answer.data[index]?.embedding as number[], reference.embedding, reference.name));
    const tokens = REFERENCE.cases.reduce((sum, reference) => sum + reference.num_tokens, 0);
    assert.deepEqual(answer.usage, { prompt_tokens: tokens, total_tokens: tokens });
  });

  test("the reference batch (padded together in Python) as one request: batch.embeddings", async () => {
    const answer = await client.embeddings.create({ model: 'emb', input: REFERENCE.batch.texts, encoding_format: 'float' });
    REFERENCE.batch.embeddings.forEach((expected, index) => assertClose(answer.data[index]?.embedding as number[], expected, `batch[${index}]`));
  });

  test('the over-long text is truncated to the model length: over_max_length.embedding, and its truncated token count', async () => {
    const { text, embedding, num_tokens_truncated: tokens } = REFERENCE.over_max_length;
    const answer = await client.embeddings.create({ model: 'emb', input: [text, ''], encoding_format: 'float' });
    assertClose(answer.data[0]?.embedding as number[], embedding, 'over_max_length');
    const empty = REFERENCE.cases.find((reference) => reference.text === '');
    assertClose(answer.data[1]?.embedding as number[], empty?.embedding as number[], 'empty string');
    assert.equal(answer.usage.prompt_tokens, tokens + (empty?.num_tokens as number));
  });

  test('base64 on the wire is the little-endian float32 bytes of the float answer', async () => {
    const text = REFERENCE.cases[0]?.text as string;
    const raw = await postJson<{ data: { embedding: string }[] }>(`${server.url}/v1/embeddings`, { model: 'emb', input: text, encoding_format: 'base64' });
    assert.equal(raw.status, 200);
    assert.equal(typeof raw.body.data[0]?.embedding, 'string');
    const decoded = fromBase64(raw.body.data[0]?.embedding as string);
    assert.equal(decoded.length, REFERENCE.embedding_dimension);
    const floats = await postJson<{ data: { embedding: number[] }[] }>(`${server.url}/v1/embeddings`, { model: 'emb', input: text });
    assert.deepEqual(decoded, floats.body.data[0]?.embedding.map((value) => Math.fround(value)));
  });

  test('dimensions keeps the first N values scaled to unit length, float and base64; N equal to the size is the vector itself', async () => {
    const reference = REFERENCE.cases[0] as Reference['cases'][number];
    for (const encoding_format of ['float', 'base64'] as const) {
      const answer = await client.embeddings.create({ model: 'emb', input: reference.text, dimensions: 8, encoding_format });
      // Asked for explicitly, base64 is left to the caller to decode (the client decodes only its own default).
      const embedding = answer.data[0]?.embedding as unknown;
      const vector = encoding_format === 'base64' ? fromBase64(embedding as string) : (embedding as number[]);
      assertClose(vector, unitTruncation(reference.embedding, 8), `dimensions 8 (${encoding_format})`);
      assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-6);
    }
    const whole = await client.embeddings.create({ model: 'emb', input: reference.text, dimensions: REFERENCE.embedding_dimension, encoding_format: 'float' });
    assertClose(whole.data[0]?.embedding as number[], reference.embedding, 'dimensions = size');
  });

  test('the texts are one predict_batch call of the model (its metrics count it), user and unknown fields ignored', async () => {
    const count = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const line = text.split('\n').find((row) => row.startsWith('longshore_requests_total{') && row.includes('model="emb"') && row.includes('operation="predict_batch"'));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    const before = await count();
    const answer = await postJson(`${server.url}/v1/embeddings`, { model: 'emb', input: ['a', 'b', 'c'], user: 'someone', future_field: 1 });
    assert.equal(answer.status, 200);
    assert.equal(await count(), before + 1);
  });

  test('name:version reaches one version; the answer echoes the model field', async () => {
    const answer = await client.embeddings.create({ model: 'emb:1', input: 'hi', encoding_format: 'float' });
    assert.equal(answer.model, 'emb:1');
    const missing = await postJson<ErrorBody>(`${server.url}/v1/embeddings`, { model: 'emb:9', input: 'hi' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.type, 'ModelNotFoundError');
    assert.match(missing.body.message, /no version '9'/);
  });

  test('an unknown model is 404 ModelNotFoundError, through the client as through fetch', async () => {
    await assert.rejects(client.embeddings.create({ model: 'nope', input: 'hi' }), (error: unknown) => error instanceof OpenAI.NotFoundError);
    const answer = await postJson<ErrorBody>(`${server.url}/v1/embeddings`, { model: 'nope', input: 'hi' });
    assert.equal(answer.status, 404);
    assert.equal(answer.body.type, 'ModelNotFoundError');
    assert.match(answer.body.message, /model 'nope' not found; served models: emb, tokens, sentiment/);
  });

  test('a model that gives no vector per text is 400 UnsupportedModelError saying why', async () => {
    const cases = [
      { model: 'sentiment', message: /serves task text-classification, not feature-extraction/ },
      { model: 'tokens', message: /has pooling: none .*pooling: mean or cls/ },
    ];
    for (const { model, message } of cases) {
      const answer = await postJson<ErrorBody>(`${server.url}/v1/embeddings`, { model, input: 'hi' });
      assert.equal(answer.status, 400, model);
      assert.equal(answer.body.type, 'UnsupportedModelError');
      assert.match(answer.body.message, message);
      assert.equal(answer.body.details[0]?.path, '/model');
    }
    await assert.rejects(client.embeddings.create({ model: 'sentiment', input: 'hi' }), (error: unknown) => error instanceof OpenAI.BadRequestError);
  });

  test('bad bodies are 400 SchemaValidationError naming the field and what to send', async () => {
    const cases: { body: unknown; path: string; message: RegExp }[] = [
      { body: { model: 'emb', input: [[101, 2023]] }, path: '/input/0', message: /token ids; .*send the text instead/ },
      { body: { model: 'emb', input: [101, 2023] }, path: '/input', message: /token ids/ },
      { body: { model: 'emb', input: [] }, path: '/input', message: /empty array: send at least one text/ },
      { body: { model: 'emb', input: ['ok', 3, 'x'] }, path: '/input/1', message: /input\[1\] must be a text, got 3/ },
      { body: { model: 'emb', input: ['ok', { text: 'x' }] }, path: '/input/1', message: /input\[1\] must be a text/ },
      { body: { model: 'emb' }, path: '/input', message: /input must be a text or an array of texts/ },
      { body: { input: 'x' }, path: '/model', message: /model must be a served model's name/ },
      { body: { model: 'emb', input: 'x', dimensions: 33 }, path: '/dimensions', message: /dimensions is 33, but model 'emb' gives vectors of 32/ },
      { body: { model: 'emb', input: 'x', dimensions: 0 }, path: '/dimensions', message: /positive integer/ },
      { body: { model: 'emb', input: 'x', dimensions: 2.5 }, path: '/dimensions', message: /positive integer/ },
      { body: { model: 'emb', input: 'x', encoding_format: 'int8' }, path: '/encoding_format', message: /"float" or "base64", got "int8"/ },
      { body: { model: 'emb', input: 'x', user: 7 }, path: '/user', message: /user must be a string/ },
      { body: ['emb'], path: '/', message: /must be a JSON object/ },
    ];
    for (const { body, path, message } of cases) {
      const answer = await postJson<ErrorBody>(`${server.url}/v1/embeddings`, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.type, 'SchemaValidationError', JSON.stringify(body));
      assert.equal(answer.body.details[0]?.path, path, JSON.stringify(body));
      assert.match(answer.body.message, message);
    }
    await assert.rejects(client.embeddings.create({ model: 'emb', input: 'x', dimensions: 33 }), (error: unknown) => error instanceof OpenAI.BadRequestError);
  });

  test('more texts than limits.predict.max_records is 413 TooManyRecordsError', async () => {
    const answer = await postJson<ErrorBody>(`${server.url}/v1/embeddings`, { model: 'emb', input: Array.from({ length: MAX_RECORDS + 1 }, () => 'x') });
    assert.equal(answer.status, 413);
    assert.equal(answer.body.type, 'TooManyRecordsError');
    assert.match(answer.body.message, /limits\.predict\.max_records/);
  });

  test('/openapi.json documents the route: request and response schemas', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, { post?: Record<string, unknown> }> };
    const operation = document.paths['/v1/embeddings']?.post as { tags: string[]; requestBody: unknown; responses: Record<string, unknown> };
    assert.deepEqual(operation.tags, ['openai']);
    const text = JSON.stringify(operation);
    for (const field of ['encoding_format', 'dimensions', 'prompt_tokens', 'total_tokens', 'embedding']) assert.ok(text.includes(field), field);
    assert.ok(operation.responses['200'] && operation.responses['400'] && operation.responses['404']);
  });
});

describe('POST /v1/embeddings with auth: on', () => {
  const KEY_VARIABLE = 'LONGSHORE_TEST_OPENAI_PREDICT_KEY';
  const READ_VARIABLE = 'LONGSHORE_TEST_OPENAI_READ_KEY';
  let server: RunningServer;
  before(async () => {
    process.env[KEY_VARIABLE] = 'k-openai-predict-0123456789';
    process.env[READ_VARIABLE] = 'k-openai-read-0123456789';
    const auth = `auth:\n  keys:\n    - {env: ${KEY_VARIABLE}, scopes: [predict]}\n    - {env: ${READ_VARIABLE}, scopes: [read]}\n`;
    server = await startServerFromFile(writeConfig(modelsYaml(auth)));
  });
  after(async () => {
    await server.close();
    delete process.env[KEY_VARIABLE];
    delete process.env[READ_VARIABLE];
  });

  test("the client's Authorization: Bearer with a predict key is let in; no key 401, a read-only key 403", async () => {
    const client = (apiKey: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
    const answer = await client('k-openai-predict-0123456789').embeddings.create({ model: 'emb', input: 'hi' });
    assert.equal(answer.data[0]?.embedding.length, REFERENCE.embedding_dimension);
    await assert.rejects(client('wrong-key').embeddings.create({ model: 'emb', input: 'hi' }), (error: unknown) => error instanceof OpenAI.AuthenticationError);
    await assert.rejects(client('k-openai-read-0123456789').embeddings.create({ model: 'emb', input: 'hi' }), (error: unknown) => error instanceof OpenAI.PermissionDeniedError);
    const bare = await postJson<ErrorBody>(`${server.url}/v1/embeddings`, { model: 'emb', input: 'hi' });
    assert.equal(bare.status, 401);
    assert.equal(bare.body.type, 'UnauthorizedError');
  });
});
