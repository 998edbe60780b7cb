/**
 * A Hugging Face model in the rest of the server: a reload picks up a changed file of its folder (config.json here)
 * and leaves an unchanged folder alone; gRPC callers reach it through the typed client like V2 REST callers; self-tests
 * and the prediction metrics work as for any model.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LongshoreClient } from '../../src/client/index.ts';
import { json, postJson, serve } from '../batching-http/http-harness.ts';
import { buildServiceFromFile, tempDir } from '../helpers/service.ts';
import { SENTIMENT, reference } from './hf-harness.ts';

describe('a Hugging Face folder changed while serving', () => {
  it('is loaded again on reload when one of its files changed, and left alone when none did', async () => {
    const dir = tempDir();
    after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(SENTIMENT, join(dir, 'sentiment'), { recursive: true });
    const file = join(dir, 'longshore.yaml');
    writeFileSync(file, 'models:\n  - model_path: ./sentiment\n');
    const service = await buildServiceFromFile(file);
    after(() => service.close());
    const predict = async () => (await service.app.inject({ method: 'POST', url: '/api/models/sentiment/prediction', payload: { text: 'What a wonderful day.' } })).json() as { label: string };
    assert.equal((await predict()).label, 'POSITIVE');

    assert.deepEqual((await service.service.repository.reload()).unchanged, ['sentiment']);

    const configPath = join(dir, 'sentiment', 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { id2label: Record<string, string> };
    config.id2label = { 0: 'negative', 1: 'positive' };
    writeFileSync(configPath, JSON.stringify(config));
    utimesSync(configPath, new Date(), new Date(Date.now() + 5000));
    assert.deepEqual((await service.service.repository.reload()).loaded, ['sentiment']);
    assert.equal((await predict()).label, 'positive');
  });
});

describe('a Hugging Face model over gRPC, with self-tests', () => {
  it('answers the typed client over gRPC as over REST, after its examples passed as self-tests', async () => {
    const cases = reference('tiny-bert-sentiment').cases.slice(0, 3);
    const yaml = JSON.stringify({
      server: { grpc_port: 0 },
      models: [
        {
          qualified_name: 'sentiment',
          model_path: SENTIMENT,
          examples: [{ name: 'positive', input: { text: 'I love this movie, it is great!' }, expected_output: { label: 'POSITIVE' } }],
        },
      ],
    });
    const served = await serve(yaml);
    after(() => served.close());
    const grpcUrl = served.server.grpcUrl;
    assert.ok(grpcUrl, 'the gRPC port is open');
    const client = new LongshoreClient(served.url, { grpc: grpcUrl, timeoutMs: 10_000 });
    const answer = await client.infer('sentiment', { inputs: [{ name: 'text', datatype: 'BYTES', shape: [cases.length], data: cases.map((item) => item.text) }] });
    assert.deepEqual(answer.output('label')?.data, cases.map((item) => item.output?.[0]?.label));
    const rest = await postJson(served.url, '/api/models/sentiment/prediction', { text: cases[0]?.text });
    assert.equal(json<{ label: string }>(rest).label, cases[0]?.output?.[0]?.label);
    const deep = await fetch(`${served.url}/api/health/ready?deep=true`);
    assert.equal(deep.status, 200, 'the self-test passes in the deep readiness probe');
  });
});

describe('a Hugging Face folder in a model repository', () => {
  it('serves <repo>/<name>/<version>/ holding config.json as a Hugging Face model, with keys from the fragment', async () => {
    const dir = tempDir();
    after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(SENTIMENT, join(dir, 'repo', 'mood', '3'), { recursive: true });
    writeFileSync(join(dir, 'repo', 'mood', 'longshore.yaml'), 'top_k: all\n');
    const file = join(dir, 'longshore.yaml');
    writeFileSync(file, 'model_repository: ./repo\n');
    const service = await buildServiceFromFile(file);
    after(() => service.close());
    const answer = await service.app.inject({ method: 'POST', url: '/api/models/mood/versions/3/prediction', payload: { text: 'The food was terrible.' } });
    assert.equal(answer.statusCode, 200, answer.body);
    const body = answer.json() as { label: string; labels: { label: string }[] };
    assert.equal(body.label, 'NEGATIVE');
    assert.deepEqual(body.labels.map((item) => item.label), ['NEGATIVE', 'POSITIVE']);
  });
});
