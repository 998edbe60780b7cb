/**
 * server.max_loaded_models: the first N load at start, the others on their first call (concurrent first calls share
 * one load); a load past N evicts the least recently used model, letting its calls in flight finish; a failing load
 * on demand answers 503 naming why; readiness stays true; evictions are counted, logged and shown in the index.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { buildService, captureLogger, configYaml, fixture, thrownConfigError, writeConfig, type LogLine, type TestService } from '../helpers/service.js';

const VERSIONED = fixture('versioned.ts', 'VersionedModel');
const model = (name: string, extra: Record<string, unknown> = {}) => ({ class_path: VERSIONED, qualified_name: name, configuration: { label: name, ...extra } });
const EVICTED = 'evicted (max_loaded_models: 2); loads again on its next call';

describe('server.max_loaded_models', () => {
  let served: TestService;
  let lines: LogLine[];
  const predict = (name: string) => served.app.inject({ method: 'POST', url: `/api/models/${name}/prediction`, payload: { x: 1 } });
  const state = (name: string) => served.registry.get(name)?.state;
  const index = async () => (await served.app.inject({ method: 'POST', url: '/v2/repository/index' })).json() as { name: string; state: string; reason: string }[];

  before(async () => {
    const captured = captureLogger();
    lines = captured.lines;
    const models = [model('a'), model('b', { delay_ms: 150 }), model('c', { load_ms: 100 }), model('d'), model('broken', { fail_load: true }), model('e', { delay_ms: 150 })];
    served = await buildService(configYaml(models, { server: { max_loaded_models: 2, repository_api: true } }), { logger: captured.logger });
  });
  after(() => served.close());

  it('loads the first N at start and parks the others, and readiness is true', async () => {
    assert.deepEqual(['a', 'b', 'c', 'd', 'broken', 'e'].map(state), ['ready', 'ready', 'unloaded', 'unloaded', 'unloaded', 'unloaded']);
    assert.equal((await served.app.inject('/api/health/ready')).statusCode, 200);
    const rows = await index();
    assert.equal(rows.find((row) => row.name === 'c')?.reason, 'not loaded yet (max_loaded_models: 2); loads on its first call');
  });

  it('loads a parked model on its first call, sharing one load between concurrent calls, and evicts the least recently used', async () => {
    assert.equal((await predict('b')).statusCode, 200); // b used after a: a is the least recently used
    const loads = lines.length;
    const answers = await Promise.all([predict('c'), predict('c'), predict('c')]);
    assert.deepEqual(answers.map((answer) => answer.statusCode), [200, 200, 200]);
    assert.deepEqual(answers.map((answer) => answer.json().label), ['c', 'c', 'c']);
    const later = lines.slice(loads);
    assert.equal(later.filter((line) => line.msg === 'model loads on demand (its first call since start or eviction)' && line.model === 'c').length, 1);
    assert.equal(later.filter((line) => line.msg === 'model evicted (max_loaded_models)' && line.model === 'a').length, 1);
    assert.deepEqual(['a', 'b', 'c'].map(state), ['unloaded', 'ready', 'ready']);
    const rows = await index();
    assert.deepEqual(rows.find((row) => row.name === 'a'), { name: 'a', version: '1', state: 'UNAVAILABLE', reason: EVICTED });
    assert.equal((await served.app.inject('/api/health/ready')).statusCode, 200);
  });

  it('prefers an idle victim over an older busy one, and the busy call completes', async () => {
    await predict('b');
    await predict('c'); // loaded: b (older), c (newer)
    const slow = predict('b'); // 150 ms in b
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await predict('a')).statusCode, 200); // c is idle, b is busy: c goes although b is older
    assert.deepEqual(['a', 'b', 'c'].map(state), ['ready', 'ready', 'unloaded']);
    assert.equal((await slow).statusCode, 200);
  });

  it('evicts the least recently used busy model when every one is busy, and its call in flight completes with 200', async () => {
    await predict('b');
    await predict('e'); // loaded: b (older), e (newer), both slow
    const onB = predict('b');
    const onE = predict('e');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const evictions = lines.filter((line) => line.msg === 'model evicted (max_loaded_models)').length;
    assert.equal((await predict('a')).statusCode, 200);
    const evicted = lines.filter((line) => line.msg === 'model evicted (max_loaded_models)').slice(evictions);
    assert.deepEqual(evicted.map((line) => [line.model, line.in_flight]), [['b', 1]]);
    const answer = await onB;
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.json().label, 'b');
    assert.equal((await onE).statusCode, 200);
    assert.equal(state('b'), 'unloaded');
  });

  it('answers 503 naming why when a load on demand fails', async () => {
    const answer = await predict('broken');
    assert.equal(answer.statusCode, 503);
    assert.match(answer.json().message ?? answer.json().error, /cannot load \(fail_load: true\)/);
    assert.equal(state('broken'), 'failed');
  });

  it('counts evictions per model in longshore_model_evictions_total', async () => {
    const text = (await served.app.inject('/metrics')).body;
    const count = (name: string) => Number(new RegExp(`longshore_model_evictions_total\\{model="${name}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    assert.ok(count('a') >= 1, text);
    assert.ok(count('c') >= 1, text);
  });
});

describe('server.max_loaded_models with graphs', () => {
  it('is refused as a config problem naming the key', () => {
    const file = writeConfig(configYaml([model('m'), { qualified_name: 'g', graph: { kind: 'ensemble', members: ['m', 'm'] } }], { server: { max_loaded_models: 1 } }));
    const error = thrownConfigError(() => loadConfigFile(file));
    assert.match(error.message, /server\.max_loaded_models: max_loaded_models cannot be used with graphs \('g'\)/);
  });
});
