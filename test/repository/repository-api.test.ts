/**
 * The model repository API (Triton's model repository extension): off by default; when on, index, load (from the
 * config read again, or a config in the body) and unload, over /v2 and /api, with their states and errors.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.js';

const VERSIONED = fixture('versioned.ts', 'VersionedModel');
const m = (label: string, extra: Record<string, unknown> = {}) => ({ class_path: VERSIONED, qualified_name: 'm', configuration: { label, ...extra } });
const other = { class_path: VERSIONED, qualified_name: 'other', configuration: { label: 'other' } };
const graph = { qualified_name: 'g', graph: { kind: 'ensemble', members: ['m', 'm'] } };

describe('the repository API when off (the default)', () => {
  let served: TestService;
  before(async () => {
    served = await buildService(configYaml([m('a')]));
  });
  after(() => served.close());

  it('has no routes and is not in /v2 extensions', async () => {
    assert.equal((await served.app.inject({ method: 'POST', url: '/v2/repository/index' })).statusCode, 404);
    assert.equal((await served.app.inject({ method: 'POST', url: '/api/repository/models/m/unload' })).statusCode, 404);
    assert.deepEqual((await served.app.inject('/v2')).json().extensions, ['binary_tensor_data']);
  });
});

describe('the repository API when on', () => {
  let served: TestService;
  const post = (url: string, payload?: object) => served.app.inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload }) });
  const predict = async (name = 'm') => post(`/api/models/${name}/prediction`, { x: 1 });
  const rewrite = (models: Record<string, unknown>[]) => writeFileSync(served.file, configYaml(models, { server: { repository_api: true } }));

  before(async () => {
    served = await buildService(configYaml([m('a'), other, graph], { server: { repository_api: true } }));
  });
  after(() => served.close());

  it('is listed in /v2 extensions', async () => {
    assert.deepEqual((await served.app.inject('/v2')).json().extensions, ['binary_tensor_data', 'model_repository']);
  });

  it('index lists every version with its state, as a bare array', async () => {
    const index = await post('/v2/repository/index');
    assert.equal(index.statusCode, 200);
    assert.deepEqual(index.json(), [
      { name: 'g', version: '1', state: 'READY', reason: '' },
      { name: 'm', version: '1', state: 'READY', reason: '' },
      { name: 'other', version: '1', state: 'READY', reason: '' },
    ]);
  });

  it('unload of a graph member is refused (409) unless unload_dependents is set', async () => {
    const refused = await post('/v2/repository/models/m/unload');
    assert.equal(refused.statusCode, 409);
    assert.match(refused.json().error as string, /member of 'g'.*unload_dependents/);
    assert.equal((await predict()).statusCode, 200);
  });

  it('unload drains and takes the model out: 404 saying how to load it again, UNAVAILABLE in the index', async () => {
    const answer = await post('/v2/repository/models/other/unload', {});
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.body, '');
    const call = await predict('other');
    assert.equal(call.statusCode, 404);
    assert.match(call.json().message as string, /'other' is not served: unloaded; load it again with POST \/v2\/repository\/models\/other\/load/);
    const index = (await post('/v2/repository/index')).json() as { name: string }[];
    assert.deepEqual(index.find((row) => row.name === 'other'), { name: 'other', version: '', state: 'UNAVAILABLE', reason: 'unloaded' });
    const ready = (await post('/v2/repository/index', { ready: true })).json() as { name: string }[];
    assert.deepEqual(ready.map((row) => row.name), ['g', 'm']);
  });

  it('load brings it back from the config file', async () => {
    assert.equal((await post('/v2/repository/models/other/load')).statusCode, 200);
    assert.deepEqual((await predict('other')).json(), { label: 'other', x: 1 });
  });

  it('load reads the config again: a changed entry is switched to once loaded, and a graph calls the new one', async () => {
    rewrite([m('b'), other, graph]);
    const answer = await post('/api/repository/models/m/load');
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(answer.json(), { model: 'm', versions: [{ name: 'm', version: '1', state: 'READY', reason: '' }] });
    assert.deepEqual((await predict()).json(), { label: 'b', x: 1 });
    assert.deepEqual((await predict('g')).json(), { label: 'b', x: 1 });
  });

  it('a load whose model fails its self-test is a 400; the old one keeps serving, and the index and metric say why', async () => {
    const config = JSON.stringify(m('c', { fail_self_test: true }));
    const answer = await post('/v2/repository/models/m/load', { parameters: { config } });
    assert.equal(answer.statusCode, 400);
    assert.match(answer.json().error as string, /model 'm' failed to load: version 1: .*; version 1 keeps serving/);
    assert.deepEqual((await predict()).json(), { label: 'b', x: 1 });
    const row = ((await post('/v2/repository/index')).json() as { name: string; state: string; reason: string }[]).find((item) => item.name === 'm');
    assert.equal(row?.state, 'READY');
    assert.match(row?.reason ?? '', /^a new load failed, this one keeps serving: /);
    assert.match((await served.app.inject('/metrics')).body, /longshore_model_load_failures_total\{model="m"\} 1/);
  });

  it('a load with a config in the body (JSON text, as Triton takes it, or an object) serves that config', async () => {
    assert.equal((await post('/v2/repository/models/m/load', { parameters: { config: JSON.stringify(m('d')) } })).statusCode, 200);
    assert.deepEqual((await predict()).json(), { label: 'd', x: 1 });
    assert.equal((await post('/api/repository/models/m/load', { parameters: { config: m('e') } })).statusCode, 200);
    assert.deepEqual((await predict()).json(), { label: 'e', x: 1 });
    const row = ((await post('/v2/repository/index')).json() as { name: string; reason: string }[]).find((item) => item.name === 'm');
    assert.equal(row?.reason, '');
  });

  it('a config in the body that is not a valid entry is a 400 naming the key', async () => {
    const answer = await post('/api/repository/models/m/load', { parameters: { config: { class_path: VERSIONED, batching: 3 } } });
    assert.equal(answer.statusCode, 400);
    assert.equal(answer.json().type, 'ModelLoadError');
    assert.ok((answer.json().details as { path: string }[]).some((detail) => detail.path.includes('batching')));
    const misnamed = await post('/api/repository/models/m/load', { parameters: { config: { ...m('x'), qualified_name: 'n' } } });
    assert.equal(misnamed.statusCode, 400);
    assert.match(misnamed.json().message as string, /qualified_name 'n' is not 'm'/);
  });

  it('a bad body is a 400 naming what was wrong', async () => {
    assert.equal((await served.app.inject({ method: 'POST', url: '/v2/repository/index', payload: '{', headers: { 'content-type': 'application/json' } })).statusCode, 400);
    const ready = await post('/v2/repository/index', { ready: 'yes' });
    assert.equal(ready.statusCode, 400);
    assert.match(ready.json().error as string, /ready must be boolean/);
    const config = await post('/v2/repository/models/m/load', { parameters: { config: '{not json' } });
    assert.equal(config.statusCode, 400);
    assert.match(config.json().error as string, /parameters\/config is not valid JSON/);
  });

  it('load or unload of a model the config does not know is a 404', async () => {
    const load = await post('/v2/repository/models/nope/load');
    assert.equal(load.statusCode, 404);
    assert.match(load.json().error as string, /no model 'nope' in the config or the model repository/);
    assert.equal((await post('/api/repository/models/nope/unload')).statusCode, 404);
  });

  it('unload_dependents unloads the graphs with their member', async () => {
    const answer = await post('/api/repository/models/m/unload', { parameters: { unload_dependents: true } });
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(answer.json(), { model: 'm', versions: [{ name: 'm', version: '', state: 'UNAVAILABLE', reason: 'unloaded' }] });
    assert.equal((await predict('g')).statusCode, 404);
    assert.equal((await predict('m')).statusCode, 404);
  });
});
