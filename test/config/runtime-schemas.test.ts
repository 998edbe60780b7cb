/**
 * One schema per runtime: an entry's runtime is told from its keys, the entry is checked against that runtime's keys
 * only (a key of another runtime is reported at its line, naming the runtime), and each entry becomes a frozen
 * effective entry with its runtime, defaults, serving and monitoring settings resolved.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, withExtraModels } from '../../src/config/load.ts';
import { thrownConfigError } from '../helpers/service.ts';

const FILE = '/srv/app/longshore.yaml';
const parse = (text: string) => parseConfig(text, FILE, '/srv/app');
const problems = (text: string) => thrownConfigError(() => parse(text)).details.map((detail) => detail.message);

describe('a model entry is checked against the keys of its runtime', () => {
  it('tells the runtime from the keys and writes it into the entry', () => {
    const { config } = parse(
      ['models:', '  - class_path: ./a.ts#A', '  - model_path: ./m.onnx', '  - qualified_name: g', '    graph: {kind: ensemble, members: [a, m]}', '  - runtime: onnx', '    model_path: ./n.onnx'].join('\n'),
    );
    assert.deepEqual(config.models.map((entry) => entry.runtime), ['module', 'onnx', 'graph', 'onnx']);
  });

  it('reports a key of the ONNX runtime on a module entry at its line, naming both', () => {
    assert.deepEqual(problems('models:\n  - class_path: ./a.ts#A\n    execution_providers: [cpu]\n'), [
      `${FILE}:3 models[0].execution_providers: 'execution_providers' applies only to ONNX models (model_path / runtime: onnx)`,
    ]);
  });

  it('reports workers on a graph at its line, naming the runtime', () => {
    assert.deepEqual(problems('models:\n  - qualified_name: g\n    graph: {kind: pipeline, members: [a, b]}\n    workers: 2\n'), [
      `${FILE}:4 models[0].workers: a graph (an entry with graph) takes no workers`,
    ]);
  });

  it('reports graph on an ONNX entry, naming the runtime', () => {
    assert.deepEqual(problems('models:\n  - model_path: ./m.onnx\n    graph: {kind: router, members: [a]}\n'), [
      `${FILE}:3 models[0].graph: an ONNX model (model_path / runtime: onnx) takes no graph; a graph entry has graph and no class_path or model_path`,
    ]);
  });

  it("checks an explicit runtime's keys, not the keys the entry happens to have", () => {
    assert.deepEqual(problems('models:\n  - runtime: graph\n    qualified_name: g\n    model_path: ./m.onnx\n'), [
      `${FILE}:2 models[0]: missing required key 'graph' for runtime: graph`,
      `${FILE}:4 models[0].model_path: a graph (an entry with graph) takes no model_path`,
    ]);
  });

  it("lists only the entry's runtime's keys for a key no runtime has", () => {
    const [message] = problems('models:\n  - model_path: ./m.onnx\n    intra_threads: 2\n');
    assert.match(message ?? '', /^\/srv\/app\/longshore\.yaml:3 models\[0\]\.intra_threads: unknown key 'intra_threads'; allowed keys: runtime, model_path, /);
    assert.match(message ?? '', /intra_op_threads/);
    assert.doesNotMatch(message ?? '', /class_path|graph,/);
  });

  it('requires a qualified_name on a graph, saying why', () => {
    assert.deepEqual(problems('models:\n  - graph: {kind: ensemble, members: [a]}\n'), [
      `${FILE}:2 models[0]: missing required key 'qualified_name': a graph has no class to take its name from`,
    ]);
  });

  it('checks a value against its runtime only (an ONNX key of the wrong type is a type problem there)', () => {
    assert.deepEqual(problems('models:\n  - model_path: ./m.onnx\n    intra_op_threads: many\n'), [`${FILE}:3 models[0].intra_op_threads: must be integer`]);
  });

  it('labels problems of a --model entry with its flag, at the index after the file models', () => {
    const base = parse('models:\n  - class_path: ./a.ts#A\n');
    const error = thrownConfigError(() => withExtraModels(base, [{ label: '--model m=./m.onnx', entry: { model_path: './m.onnx', class_path: './x.ts' } }], '/home/me'));
    assert.deepEqual(error.details, [{ path: 'models[1].class_path', message: '--model m=./m.onnx: an ONNX model (model_path / runtime: onnx) takes no class_path' }]);
  });
});

describe('each model entry becomes a frozen effective entry', () => {
  it('resolves serving settings from the entry, then defaults:, then the built-in table', () => {
    const { config } = parse(
      [
        'defaults:',
        '  max_queue_size: 100',
        '  batching: {max_batch_size: 8}',
        'models:',
        '  - model_path: ./m.onnx',
        '    timeout_ms: 500',
        '  - class_path: ./a.ts#A',
        '    workers: 3',
        '    max_queue_size: 7',
      ].join('\n'),
    );
    assert.deepEqual(config.models[0]?.serving, { policy: 'eager', maxBatchSize: 8, maxLatencyMs: 2, maxQueueSize: 100, maxConcurrency: undefined, timeoutMs: 500, warmup: 1 });
    assert.deepEqual(config.models[1]?.serving, { policy: 'off', maxBatchSize: 8, maxLatencyMs: 2, maxQueueSize: 7, maxConcurrency: 3, timeoutMs: 60_000, warmup: 1 });
  });

  it('reads max_concurrency 0 as no limit', () => {
    const { config } = parse('models:\n  - class_path: ./a.ts#A\n    max_concurrency: 0\n');
    assert.equal(config.models[0]?.serving.maxConcurrency, Number.POSITIVE_INFINITY);
  });

  it("fills an ONNX entry's session defaults from the schema", () => {
    const entry = parse('models:\n  - model_path: ./m.onnx\n').config.models[0];
    assert.equal(entry?.runtime, 'onnx');
    assert.equal(entry.intra_op_threads, 1);
    assert.deepEqual(entry.execution_providers, ['cpu']);
    assert.equal(entry.workers, 0);
    assert.equal(entry.inter_op_threads, undefined);
  });

  it("merges the entry's monitoring over the server-wide keys, then the defaults", () => {
    const { config } = parse(
      [
        'monitoring:',
        '  enabled: true',
        '  sample_every: 5',
        '  destination: {type: http, url: "http://collector/in"}',
        'models:',
        '  - class_path: ./a.ts#A',
        '    monitoring: {sample_rate: 0.5, batch_size: 7}',
        '  - class_path: ./b.ts#B',
      ].join('\n'),
    );
    const destination = { type: 'http', url: 'http://collector/in', headers: {}, timeout_ms: 5000 };
    const common = { enabled: true, flush_interval_ms: 1000, max_buffer: 10_000, include: 'both', destination };
    assert.deepEqual(config.models[0]?.monitoring, { ...common, sample_rate: 0.5, batch_size: 7 });
    assert.deepEqual(config.models[1]?.monitoring, { ...common, sample_every: 5, batch_size: 100 });
  });

  it('freezes the effective entries, their serving and monitoring settings included', () => {
    const { config } = parse('models:\n  - class_path: ./a.ts#A\n');
    const entry = config.models[0];
    assert.ok(Object.isFrozen(entry) && Object.isFrozen(entry?.serving) && Object.isFrozen(entry?.monitoring.destination));
    assert.throws(() => {
      (entry?.serving as { timeoutMs: number }).timeoutMs = 1;
    }, TypeError);
  });

  it('resolves --model entries the same way, with the defaults of the file', () => {
    const base = parse('defaults:\n  timeout_ms: 1234\nmodels: []\n');
    const merged = withExtraModels(base, [{ label: '--model m.onnx', entry: { model_path: './m.onnx' } }], '/srv/app');
    const entry = merged.config.models[0];
    assert.equal(entry?.runtime, 'onnx');
    assert.equal(entry.serving.timeoutMs, 1234);
    assert.equal(entry.serving.policy, 'eager');
    assert.ok(Object.isFrozen(entry.serving));
  });

  it('fills every top-level setting, so readers need no fallback of their own', () => {
    const { config } = parse('');
    assert.equal(config.health.deep_check_interval_ms, 10_000);
    assert.equal(config.server.max_heap_ratio, 0.9);
    assert.equal(config.metrics.model_labels, true);
  });
});
