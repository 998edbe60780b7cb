/**
 * Warmup (model/warmup.ts, docs/self-tests.md#warmup): `warmup: N` runs the examples N times before the model turns
 * ready (each run checked), 0 skips them, `defaults.warmup` applies to every model; an ONNX model without examples runs
 * a generated input of zeros that never fails the load; warmup calls stay out of the metrics and the prediction log.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import type { RuntimeModel } from '../../src/runtimes/runtime-model.ts';
import { ServedModel } from '../../src/model/served-model.ts';
import { UNLIMITED } from '../../src/model/served-model-options.ts';
import { zeroInputs } from '../../src/model/warmup.ts';
import type { Tensor, TensorSignature } from '../../src/tensors/tensor.ts';
import type { CountingModel } from '../fixtures/code-models/counting.ts';
import { readRecords } from '../monitoring/monitoring-harness.ts';
import { buildService, captureLogger, configYaml, fixture, REPO_ROOT, thrownConfigError, writeConfig, type TestService } from '../helpers/service.ts';

const COUNTING = fixture('counting.ts', 'CountingModel');
const IRIS_ONNX = join(REPO_ROOT, 'test/fixtures/onnx/iris_logreg.onnx');

/** Builds the service without loading, then loads it, noting each model's predict() calls when it turned ready. */
async function loadCounting(yaml: string): Promise<{ built: TestService; callsAtReady: Map<string, number> }> {
  const built = await buildService(yaml, { load: false });
  const callsAtReady = new Map<string, number>();
  for (const served of built.registry.list()) {
    served.onStateChange(() => {
      if (served.state === 'ready') callsAtReady.set(served.name, (served.model as unknown as CountingModel).calls);
    });
  }
  await built.registry.loadAll();
  return { built, callsAtReady };
}

/** The sum of a metric's samples named `sample` (a histogram's `_count`, a counter) for one model, from /metrics. */
async function sampleSum(built: TestService, sample: string, model: string): Promise<number> {
  const text = await built.service.metrics.registry.metrics();
  const pattern = new RegExp(`^${sample}\\{[^}]*model="${model}"[^}]*\\} (\\S+)$`, 'gm');
  return [...text.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('warmup of a model with examples', () => {
  it('readiness waits for N runs of every example (the class\'s and the entry\'s)', async () => {
    const { built, callsAtReady } = await loadCounting(
      configYaml([{ class_path: COUNTING, warmup: 3, examples: [{ name: 'four', input: { x: 2 }, expected_output: { y: 4 } }] }]),
    );
    try {
      assert.equal(callsAtReady.get('counting'), 6, '2 examples × 3 runs, all before ready');
      assert.equal((await built.app.inject('/api/health/ready')).statusCode, 200);
    } finally {
      await built.close();
    }
  });

  it('runs once by default (the self-test is the warmup); defaults.warmup applies, an entry overrides it', async () => {
    const { built, callsAtReady } = await loadCounting(configYaml([{ class_path: COUNTING, qualified_name: 'plain' }]));
    const withDefaults = await loadCounting(
      configYaml(
        [
          { class_path: COUNTING, qualified_name: 'inherits' },
          { class_path: COUNTING, qualified_name: 'own', warmup: 4 },
        ],
        { defaults: { warmup: 2 } },
      ),
    );
    try {
      assert.equal(callsAtReady.get('plain'), 1);
      assert.equal(withDefaults.callsAtReady.get('inherits'), 2);
      assert.equal(withDefaults.callsAtReady.get('own'), 4);
    } finally {
      await built.close();
      await withDefaults.built.close();
    }
  });

  it('warmup: 0 skips it: no call before ready, and an example that would fail does not fail the load', async () => {
    const { built, callsAtReady } = await loadCounting(configYaml([{ class_path: COUNTING, warmup: 0, examples: [{ input: { x: 1 }, expected_output: { y: 99 } }] }]));
    try {
      assert.equal(callsAtReady.get('counting'), 0);
      assert.equal(built.registry.get('counting')?.state, 'ready');
    } finally {
      await built.close();
    }
  });

  it('a run after the first that answers differently fails the load, naming the run', async () => {
    const { built } = await loadCounting(configYaml([{ class_path: COUNTING, warmup: 3, configuration: { wrong_after: 1 } }]));
    try {
      const served = built.registry.get('counting');
      assert.equal(served?.state, 'failed');
      assert.equal(served?.error, "self-test 'two' answered differently than expected: /y: expected 2, got 3 (warmup run 2 of 3)");
    } finally {
      await built.close();
    }
  });

  it('a negative warmup is a config problem naming the key', () => {
    const error = thrownConfigError(() => loadConfigFile(writeConfig(configYaml([{ class_path: COUNTING, warmup: -1 }]))));
    assert.match(error.message, /models\[0\]\.warmup: must be >= 0/);
  });
});

describe('warmup calls are not calls of the service', () => {
  it('leave longshore_requests_total, the batch histograms and the prediction log untouched', async () => {
    const monitoring = { enabled: true, sample_every: 1, batch_size: 1, flush_interval_ms: 10, destination: { type: 'file', path: 'predictions.jsonl' } };
    const { built, callsAtReady } = await loadCounting(configYaml([{ class_path: COUNTING, warmup: 3 }], { monitoring }));
    try {
      assert.equal(callsAtReady.get('counting'), 3);
      assert.equal(await sampleSum(built, 'longshore_requests_total', 'counting'), 0);
      assert.equal(await sampleSum(built, 'longshore_batch_size_count', 'counting'), 0);
      assert.equal(await sampleSum(built, 'longshore_inference_duration_seconds_count', 'counting'), 0);
      assert.equal(await sampleSum(built, 'longshore_queue_duration_seconds_count', 'counting'), 0);
      const answer = await built.app.inject({ method: 'POST', url: '/api/models/counting/prediction', payload: { x: 5 } });
      assert.deepEqual(answer.json(), { y: 10 });
      assert.equal(await sampleSum(built, 'longshore_requests_total', 'counting'), 1);
      assert.equal(await sampleSum(built, 'longshore_batch_size_count', 'counting'), 1, 'served calls count once the model is ready');
      await built.service.unloadAll();
      const records = readRecords(join(built.loaded.dir, 'predictions.jsonl'));
      assert.deepEqual(
        records.map((record) => record.inputs),
        [{ x: 5 }],
        'only the served call is logged',
      );
    } finally {
      await built.close();
    }
  });
});

describe('generated warmup of an ONNX model without examples', () => {
  it('iris_logreg.onnx takes its zeros: ready, no warning, nothing counted', async () => {
    const { logger, lines } = captureLogger('warn');
    const built = await buildService(configYaml([{ model_path: IRIS_ONNX, qualified_name: 'iris', warmup: 2 }]), { logger });
    try {
      assert.equal(built.registry.get('iris')?.state, 'ready');
      assert.deepEqual(lines.filter((line) => /warmup/.test(line.msg ?? '')), []);
      assert.equal(await sampleSum(built, 'longshore_batch_size_count', 'iris'), 0);
    } finally {
      await built.close();
    }
  });

  const SIGNATURE: TensorSignature = {
    platform: 'onnx_onnxv1',
    inputs: [
      { name: 'ids', datatype: 'INT64', shape: [-1, -1] },
      { name: 'text', datatype: 'BYTES', shape: [-1] },
    ],
    outputs: [{ name: 'score', datatype: 'FP32', shape: [-1] }],
  };

  /** A tensor model (as the ONNX runtime hands one over) whose infer() notes its inputs and may refuse them. */
  function tensorModel(refuse: boolean): RuntimeModel & { seen: ReadonlyMap<string, Tensor>[] } {
    const seen: ReadonlyMap<string, Tensor>[] = [];
    return {
      seen,
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      signature: SIGNATURE,
      infer(inputs: ReadonlyMap<string, Tensor>): Promise<Tensor[]> {
        seen.push(inputs);
        if (refuse) return Promise.reject(new Error('Gather: index out of range'));
        return Promise.resolve([{ name: 'score', datatype: 'FP32', shape: [1], data: new Float32Array(1) }]);
      },
      predict: () => assert.fail('a warmup of a tensor model goes through infer()'),
    };
  }

  function served(model: RuntimeModel, logger = captureLogger('warn').logger): ServedModel {
    return new ServedModel(model, {
      metadata: { qualified_name: 'tensors', display_name: '', description: '', version: '1' },
      createEndpoint: true,
      required: true,
      logger,
      serving: { ...UNLIMITED, warmup: 3 },
    });
  }

  it('runs N times with zeros of each input\'s type, dynamic dimensions 1', async () => {
    const model = tensorModel(false);
    const target = served(model);
    await target.load();
    assert.equal(target.state, 'ready');
    assert.equal(model.seen.length, 3);
    const ids = model.seen[0]?.get('ids');
    assert.deepEqual([ids?.datatype, ids?.shape, [...(ids?.data as BigInt64Array)]], ['INT64', [1, 1], [0n]]);
    assert.deepEqual(model.seen[0]?.get('text')?.data, ['']);
  });

  it('a model that refuses the generated input still turns ready, with one warning', async () => {
    const { logger, lines } = captureLogger('warn');
    const model = tensorModel(true);
    const target = served(model, logger);
    await target.load();
    assert.equal(target.state, 'ready');
    assert.equal(model.seen.length, 1, 'the first refusal ends the warmup');
    const warnings = lines.filter((line) => /generated warmup input/.test(line.msg ?? ''));
    assert.equal(warnings.length, 1);
  });

  it('zeroInputs gives fixed dimensions as they are and rows from the first input', () => {
    const generated = zeroInputs({ platform: 'onnx_onnxv1', inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3] }], outputs: [] });
    assert.equal(generated?.rows, 2);
    assert.deepEqual([...(generated?.inputs.get('x')?.data as Float32Array)], [0, 0, 0, 0, 0, 0]);
  });
});
