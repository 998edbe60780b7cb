/**
 * Several versions under one name, from YAML entries that share a qualified_name: the default routes serve the newest
 * ready version, `/versions/{v}/` reaches one, and listings, metadata and metrics show every version.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.js';

const VERSIONED = fixture('versioned.ts', 'VersionedModel');

function entry(version: string, configuration: Record<string, unknown>): Record<string, unknown> {
  return { class_path: VERSIONED, qualified_name: 'm', version, configuration };
}

describe('versions side by side', () => {
  let served: TestService;
  before(async () => {
    served = await buildService(configYaml([entry('1', { label: 'one' }), entry('2', { label: 'two' }), entry('10', { label: 'ten', fail_load: true })]));
  });
  after(() => served.close());

  const post = (url: string, payload: object) => served.app.inject({ method: 'POST', url, payload });

  it('the default REST route serves the newest ready version (10 failed to load, so 2)', async () => {
    const answer = await post('/api/models/m/prediction', { x: 3 });
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(answer.json(), { label: 'two', x: 3 });
  });

  it('a version path reaches that version over REST and V2', async () => {
    assert.deepEqual((await post('/api/models/m/versions/1/prediction', { x: 1 })).json(), { label: 'one', x: 1 });
    assert.deepEqual((await post('/api/models/m/versions/1/predictions', [{ x: 1 }, { x: 2 }])).json(), [{ label: 'one', x: 1 }, { label: 'one', x: 2 }]);
    const v2 = await post('/v2/models/m/versions/1/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [5] }] });
    assert.equal(v2.statusCode, 200);
    const body = v2.json() as { model_version: string; outputs: { name: string; data: unknown[] }[] };
    assert.equal(body.model_version, '1');
    assert.deepEqual(body.outputs.find((output) => output.name === 'label')?.data, ['one']);
    const newest = (await post('/v2/models/m/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [5] }] })).json() as { model_version: string };
    assert.equal(newest.model_version, '2');
  });

  it('a version that failed to load answers 503 on its own path, naming why', async () => {
    const answer = await post('/api/models/m/versions/10/prediction', { x: 1 });
    assert.equal(answer.statusCode, 503);
    assert.match(answer.json().message as string, /fail_load: true/);
  });

  it('an unknown version is a 404 listing the versions', async () => {
    const answer = await post('/api/models/m/versions/7/prediction', { x: 1 });
    assert.equal(answer.statusCode, 404);
    assert.equal(answer.json().message, "model 'm' has no version '7'; its versions: 1, 2, 10");
    assert.equal((await served.app.inject('/v2/models/m/versions/7')).statusCode, 404);
  });

  it('the listing, REST metadata and V2 metadata show the versions', async () => {
    const listing = (await served.app.inject('/api/models')).json() as { models: { qualified_name: string; version: string; status: string }[] };
    assert.deepEqual(
      listing.models.map((model) => [model.qualified_name, model.version, model.status]),
      [['m', '1', 'ready'], ['m', '2', 'ready'], ['m', '10', 'failed']],
    );
    assert.equal((await served.app.inject('/api/models/m/versions/1/metadata')).json().version, '1');
    assert.equal((await served.app.inject('/api/models/m/metadata')).json().version, '2');
    assert.deepEqual((await served.app.inject('/v2/models/m')).json().versions, ['1', '2', '10']);
    assert.deepEqual((await served.app.inject('/v2/models/m/versions/1')).json().versions, ['1']);
    assert.equal((await served.app.inject('/v2/models/m/versions/1/ready')).statusCode, 200);
    assert.equal((await served.app.inject('/v2/models/m/versions/10/ready')).statusCode, 503);
  });

  it('metrics count each version under its own label', async () => {
    await post('/api/models/m/versions/1/prediction', { x: 1 });
    const text = (await served.app.inject('/metrics')).body;
    assert.match(text, /longshore_requests_total\{model="m",version="1",operation="predict"\} [1-9]/);
    assert.match(text, /longshore_requests_total\{model="m",version="2",operation="predict"\} [1-9]/);
  });
});

describe('the OpenAPI document of a model with versions', () => {
  let served: TestService;
  before(async () => {
    served = await buildService(configYaml([entry('1', { label: 'one' }), entry('2', { label: 'two' })]));
  });
  after(() => served.close());

  it('documents each version under its path, and the default paths as the newest ready version', async () => {
    const document = (await served.app.inject('/openapi.json')).json() as { paths: Record<string, { post?: { operationId: string; tags: string[] } }>; components: { schemas: Record<string, unknown> } };
    for (const prefix of ['/api/models/m', '/api/models/m/versions/1', '/api/models/m/versions/2']) {
      assert.ok(document.paths[`${prefix}/prediction`]?.post, `${prefix}/prediction is documented`);
    }
    assert.deepEqual(document.paths['/api/models/m/prediction']?.post?.tags, ['m']);
    assert.deepEqual(document.paths['/api/models/m/versions/1/prediction']?.post?.tags, ['m v1']);
    const ids = Object.values(document.paths).flatMap((item) => (item.post?.operationId ? [item.post.operationId] : []));
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
    assert.ok(document.components.schemas.m_v1_input && document.components.schemas.m_input);
  });
});

describe('the prediction log of a model with versions', () => {
  it('is one log for the name, each record naming its version, and a reload with the same settings keeps it', async () => {
    const monitoring = { enabled: true, batch_size: 1, flush_interval_ms: 10, destination: { type: 'file', path: 'predictions.jsonl' } };
    const served = await buildService(configYaml([entry('1', { label: 'one' }), entry('2', { label: 'two' })], { monitoring, server: { repository_api: true } }));
    try {
      await served.app.inject({ method: 'POST', url: '/api/models/m/versions/1/prediction', payload: { x: 1 } });
      await served.app.inject({ method: 'POST', url: '/api/models/m/versions/2/prediction', payload: { x: 2 } });
      assert.equal((await served.app.inject({ method: 'POST', url: '/v2/repository/models/m/load' })).statusCode, 200);
      await served.app.inject({ method: 'POST', url: '/api/models/m/prediction', payload: { x: 3 } });
      assert.equal(served.service.predictionLogs.logs.length, 1);
      await served.service.unloadAll();
      const lines = readFileSync(join(dirname(served.file), 'predictions.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { version: string });
      assert.deepEqual(lines.map((line) => line.version), ['1', '2', '2']);
    } finally {
      await served.close();
    }
  });
});
