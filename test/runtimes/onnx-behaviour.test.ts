/**
 * How the ONNX runtime behaves beyond the happy path: left-out non-tensor outputs, session failures with hints, shape
 * and type validation before the model runs, 64-bit integers, output selection, batching into one run, release.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createService } from '../../src/service.ts';
import { OnnxModel } from '../../src/runtimes/onnx.ts';
import { identityModel, squareModel, type ElemTypeName } from '../fixtures/onnx/build-model.ts';
import { FIXTURES, serveYaml } from './onnx-harness.ts';

// InferenceSession's type is a factory interface; at run time it is a class whose prototype holds run/release.
const sessionPrototype = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype as {
  run: ort.InferenceSession['run'];
  release: ort.InferenceSession['release'];
};

/** Counts session.run calls (on every session) until `restore()` is called. */
function countRuns(): { readonly count: number; restore(): void } {
  const original = sessionPrototype.run;
  let count = 0;
  sessionPrototype.run = function (this: ort.InferenceSession, ...args: Parameters<typeof original>) {
    count++;
    return (original as (...a: unknown[]) => ReturnType<typeof original>).apply(this, args);
  } as typeof original;
  return {
    get count() {
      return count;
    },
    restore: () => {
      sessionPrototype.run = original;
    },
  };
}

describe('ONNX models with non-tensor outputs (skl2onnx ZipMap)', () => {
  it('serves the tensor outputs and names the left-out output with the zipmap fix in the metadata', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}iris_logreg_zipmap.onnx\n    qualified_name: zm\n`);
    t.after(() => harness.close());
    const metadata = (await harness.app.inject({ url: '/api/models/zm/metadata' })).json<{ status: string; notes: string[]; output_schema: { properties: object } }>();
    assert.equal(metadata.status, 'ready');
    assert.deepEqual(Object.keys(metadata.output_schema.properties), ['output_label']);
    assert.equal(metadata.notes.length, 1);
    assert.match(metadata.notes[0] ?? '', /output 'output_probability' is not a tensor and was left out/);
    assert.match(metadata.notes[0] ?? '', /'zipmap': False/);
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/zm/prediction', payload: { input: [5.1, 3.5, 1.4, 0.2] } });
    assert.deepEqual(response.json(), { output_label: 0 });
  });

  it('writes the left-out output to the load log as a warning', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const file = join(FIXTURES, 'cfg.yaml');
    const loaded = parseConfig(`models:\n  - model_path: ./iris_logreg_zipmap.onnx\n`, file, FIXTURES);
    const { registry } = await createService(loaded, logger);
    await registry.loadAll();
    await registry.unloadAll();
    const warning = lines.map((line) => JSON.parse(line) as { level: number; note?: string; model?: string }).find((entry) => entry.note);
    assert.equal(warning?.level, 40);
    assert.equal(warning?.model, 'iris_logreg_zipmap');
    assert.match(warning?.note ?? '', /output_probability.*zipmap/s);
  });

  it('fails to load, with the explanation, when the only configured output is not a tensor', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}iris_logreg_zipmap.onnx\n    outputs: [output_probability]\n`);
    t.after(() => harness.close());
    const model = harness.registry.require('iris_logreg_zipmap');
    assert.equal(model.state, 'failed');
    assert.match(model.error ?? '', /configured output 'output_probability' is not a tensor.*'zipmap': False/s);
  });
});

describe('ONNX session failures mark the model failed with a hint while the service stays up', () => {
  it('reports the missing locale of a skl2onnx text model with both fixes, and keeps serving the other models', async (t) => {
    const harness = await serveYaml(
      `models:\n  - model_path: ${FIXTURES}text_clf_default_locale.onnx\n  - model_path: ${FIXTURES}iris_logreg.onnx\n`,
    );
    t.after(() => harness.close());
    const listing = (await harness.app.inject({ url: '/api/models' })).json<{ models: { qualified_name: string; status: string; error?: string }[] }>();
    const failed = listing.models.find((m) => m.qualified_name === 'text_clf_default_locale');
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error ?? '', /Failed to construct locale with name:en_US\.UTF-8/);
    assert.match(failed?.error ?? '', /'locale': 'C\.UTF-8'/);
    assert.match(failed?.error ?? '', /LOCPATH/);
    const predict = await harness.app.inject({ method: 'POST', url: '/api/models/text_clf_default_locale/prediction', payload: { input: ['x'] } });
    assert.equal(predict.statusCode, 503);
    assert.equal(predict.json<{ type: string }>().type, 'ModelNotReadyError');
    assert.equal((await harness.app.inject({ url: '/api/health/ready' })).statusCode, 503);
    const iris = await harness.app.inject({ method: 'POST', url: '/api/models/iris_logreg/prediction', payload: { input: [5.1, 3.5, 1.4, 0.2] } });
    assert.equal(iris.statusCode, 200);
  });

  it('reports a corrupt file as not a valid ONNX model', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ./broken.onnx\n`, { 'broken.onnx': 'this is not an onnx model' });
    t.after(() => harness.close());
    const model = harness.registry.require('broken');
    assert.equal(model.state, 'failed');
    assert.match(model.error ?? "", /protobuf parsing failed/i);
    assert.match(model.error ?? '', /not a valid ONNX model/);
  });

  it('rejects a model_path that does not exist before listening, naming the key and line', async () => {
    const loaded = parseConfig(`service_title: x\nmodels:\n  - model_path: ./nope.onnx\n`, '/cfg/longshore.yaml', FIXTURES);
    await assert.rejects(createService(loaded, pino({ level: 'silent' })), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /longshore\.yaml:3 models\[0\]\.model_path: file not found: .*nope\.onnx/);
      return true;
    });
  });

  it('rejects ONNX-only keys on a code model and a class_path on an ONNX model', () => {
    assert.throws(() => parseConfig(`models:\n  - class_path: ./m.ts#M\n    intra_op_threads: 2\n`, 'c.yaml', FIXTURES), /c\.yaml:3 models\[0\]\.intra_op_threads: 'intra_op_threads' applies only to ONNX models/);
    assert.throws(() => parseConfig(`models:\n  - runtime: onnx\n    class_path: ./m.ts#M\n`, 'c.yaml', FIXTURES), /missing required key 'model_path'/);
    assert.throws(() => parseConfig(`models:\n  - create_endpoint: true\n`, 'c.yaml', FIXTURES), /c\.yaml:2 models\[0\]: missing required key 'class_path'/);
  });

  it('fails to load, listing the graph outputs, when a configured output does not exist', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n    outputs: [nope]\n`);
    t.after(() => harness.close());
    assert.match(harness.registry.require('iris_logreg').error ?? '', /configured output 'nope' is not a graph output; graph outputs: label, probabilities/);
  });
});

describe('ONNX inputs are checked against the graph signature before the model runs', () => {
  it('rejects a wrong instance shape with 400 naming the input and the expected shape', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n    qualified_name: iris\n`);
    t.after(() => harness.close());
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/iris/prediction', payload: { input: [1, 2, 3] } });
    assert.equal(response.statusCode, 400);
    const body = response.json<{ type: string; message: string; details: { path: string; message: string }[] }>();
    assert.equal(body.type, 'SchemaValidationError');
    assert.equal(body.details[0]?.path, '/input');
    assert.match(body.details[0]?.message ?? '', /fewer than 4 items; expected FP32 value of shape \[4\] \(graph tensor 'input', shape \[-1,4\]\)/);
  });

  it('rejects wrong element types, missing inputs and unknown inputs, naming each', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}multi_input.onnx\n`);
    t.after(() => harness.close());
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/multi_input/prediction', payload: { a: [1, 'x', 3], c: 1 } });
    assert.equal(response.statusCode, 400);
    const paths = response.json<{ details: { path: string }[] }>().details.map((d) => d.path).sort();
    assert.deepEqual(paths, ['/a/1', '/b', '/c']);
    const fractional = await harness.app.inject({ method: 'POST', url: '/api/models/multi_input/prediction', payload: { a: [1, 2, 3], b: [1.5] } });
    assert.equal(fractional.statusCode, 400);
    assert.equal(fractional.json<{ details: { path: string }[] }>().details[0]?.path, '/b/0');
  });

  it('rejects a batch whose records disagree on a dynamic dimension with 400', async (t) => {
    const model = identityModel([{ name: 'tokens', type: 'int32', shape: ['N', 'L'] }], [{ name: 'same', type: 'int32', shape: ['N', 'L'] }]);
    const harness = await serveYaml(`models:\n  - model_path: ./seq.onnx\n`, { 'seq.onnx': model });
    t.after(() => harness.close());
    const ok = await harness.app.inject({ method: 'POST', url: '/api/models/seq/predictions', payload: [{ tokens: [1, 2, 3] }, { tokens: [4, 5, 6] }] });
    assert.deepEqual(ok.json(), [{ same: [1, 2, 3] }, { same: [4, 5, 6] }]);
    const ragged = await harness.app.inject({ method: 'POST', url: '/api/models/seq/predictions', payload: [{ tokens: [1, 2, 3] }, { tokens: [4, 5] }] });
    assert.equal(ragged.statusCode, 400);
    assert.match(ragged.json<{ message: string }>().message, /input 'tokens': expected shape \[3\] in every record, got 2 items/);
    assert.equal(ragged.json<{ details: { path: string }[] }>().details[0]?.path, '/1/tokens');
  });
});

describe('ONNX element types map to JSON and back', () => {
  const cases: { type: ElemTypeName; values: unknown[] }[] = [
    { type: 'float32', values: [1.5, -2.25] },
    { type: 'float64', values: [0.1, 1e300] },
    { type: 'int8', values: [-128, 127] },
    { type: 'int16', values: [-32768, 32767] },
    { type: 'int32', values: [-2147483648, 2147483647] },
    { type: 'int64', values: [-9007199254740991, 9007199254740991] },
    { type: 'uint8', values: [0, 255] },
    { type: 'uint16', values: [0, 65535] },
    { type: 'uint32', values: [0, 4294967295] },
    { type: 'uint64', values: [0, 9007199254740991] },
    { type: 'bool', values: [true, false] },
    { type: 'string', values: ['héllo', '🙂 emoji'] },
  ];
  for (const { type, values } of cases) {
    it(`round-trips ${type} values through an identity model`, async (t) => {
      const model = identityModel([{ name: 'x', type, shape: ['N', 2] }], [{ name: 'y', type, shape: ['N', 2] }]);
      const harness = await serveYaml(`models:\n  - model_path: ./id.onnx\n`, { 'id.onnx': model });
      t.after(() => harness.close());
      const response = await harness.app.inject({ method: 'POST', url: '/api/models/id/prediction', payload: { x: values } });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { y: values });
    });
  }

  it('rejects integers outside the element type range with 400', async (t) => {
    const model = identityModel([{ name: 'x', type: 'uint8', shape: ['N'] }], [{ name: 'y', type: 'uint8', shape: ['N'] }]);
    const harness = await serveYaml(`models:\n  - model_path: ./id.onnx\n`, { 'id.onnx': model });
    t.after(() => harness.close());
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/id/prediction', payload: { x: 256 } });
    assert.equal(response.statusCode, 400);
    assert.match(response.json<{ details: { message: string }[] }>().details[0]?.message ?? '', /must be <= 255/);
  });

  it('returns int64 outputs beyond ±(2^53−1) as exact decimal strings and smaller ones as numbers', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ./square.onnx\n`, { 'square.onnx': squareModel('int64', ['N']) });
    t.after(() => harness.close());
    const big = 2 ** 30 + 1; // (2^30+1)^2 = 2^60 + 2^31 + 1, which a double cannot hold exactly
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/square/predictions', payload: [{ x: big }, { x: -3 }] });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), [{ y: '1152921506754330625' }, { y: 9 }]);
    assert.equal(BigInt(big) * BigInt(big), 1152921506754330625n);
  });

  it('rejects int64 inputs beyond ±(2^53−1), which JSON cannot carry exactly', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ./square.onnx\n`, { 'square.onnx': squareModel('int64', ['N']) });
    t.after(() => harness.close());
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/square/prediction', payload: { x: 2 ** 60 } });
    assert.equal(response.statusCode, 400);
  });
});

describe('ONNX batching, output selection and lifecycle', () => {
  it('runs a /predictions batch as exactly one session.run', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}digits_mlp.onnx\n`);
    t.after(() => harness.close());
    const runs = countRuns();
    t.after(() => runs.restore());
    const records = Array.from({ length: 16 }, (_, i) => ({ input: Array.from({ length: 64 }, (_, j) => (i + j) % 17) }));
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/digits_mlp/predictions', payload: records });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<unknown[]>().length, 16);
    assert.equal(runs.count, 1);
  });

  it('returns only the configured outputs, in the configured order', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n    outputs: [probabilities]\n`);
    t.after(() => harness.close());
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/iris_logreg/prediction', payload: { input: [5.1, 3.5, 1.4, 0.2] } });
    assert.deepEqual(Object.keys(response.json()), ['probabilities']);
  });

  it('serves a model whose batch dimension is fixed by running each record on its own', async (t) => {
    const model = identityModel([{ name: 'x', type: 'float32', shape: [1, 2] }], [{ name: 'y', type: 'float32', shape: [1, 2] }]);
    const harness = await serveYaml(`models:\n  - model_path: ./fixed.onnx\n`, { 'fixed.onnx': model });
    t.after(() => harness.close());
    const metadata = (await harness.app.inject({ url: '/api/models/fixed/metadata' })).json<{ notes: string[] }>();
    assert.match(metadata.notes.join(' '), /each record runs on its own/);
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/fixed/predictions', payload: [{ x: [[1, 2]] }, { x: [[3, 4]] }] });
    assert.deepEqual(response.json(), [{ y: [[1, 2]] }, { y: [[3, 4]] }]);
  });

  it('documents each ONNX model as named OpenAPI components derived from the graph', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}multi_input.onnx\n`);
    t.after(() => harness.close());
    const document = (await harness.app.inject({ url: '/openapi.json' })).json<{ components: { schemas: Record<string, { properties: Record<string, unknown> }> }; paths: Record<string, unknown> }>();
    assert.deepEqual(Object.keys(document.components.schemas.multi_input_input?.properties ?? {}), ['a', 'b']);
    assert.deepEqual(Object.keys(document.components.schemas.multi_input_output?.properties ?? {}), ['sum']);
    assert.ok(document.paths['/api/models/multi_input/prediction']);
    assert.ok(document.paths['/api/models/multi_input/predictions']);
  });

  it('releases the session on unload, after which the model answers 503', async () => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n`);
    const served = harness.registry.require('iris_logreg');
    const onnx = served.model as OnnxModel;
    let released = 0;
    const original = sessionPrototype.release;
    sessionPrototype.release = function (this: ort.InferenceSession) {
      released++;
      return original.call(this);
    };
    try {
      await harness.registry.unloadAll();
    } finally {
      sessionPrototype.release = original;
    }
    assert.equal(released, 1);
    assert.equal(served.state, 'unloaded');
    await assert.rejects(onnx.predict({ input: [1, 2, 3, 4] }), /not loaded/);
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/iris_logreg/prediction', payload: { input: [1, 2, 3, 4] } });
    assert.equal(response.statusCode, 503);
    await harness.app.close();
  });

  it('applies the session settings from the entry', async (t) => {
    const harness = await serveYaml(
      `models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n    intra_op_threads: 2\n    inter_op_threads: 1\n    graph_optimization_level: basic\n    execution_providers: [cpu]\n`,
    );
    t.after(() => harness.close());
    assert.equal(harness.registry.require('iris_logreg').state, 'ready');
    const file = join(harness.dir, 'bad.yaml');
    writeFileSync(file, 'x');
    assert.throws(() => parseConfig(`models:\n  - model_path: ./a.onnx\n    graph_optimization_level: max\n`, file, harness.dir), /graph_optimization_level: must be one of "disabled", "basic", "extended", "all"/);
  });
});

describe('ONNX eager batching (the default)', () => {
  const rows = [
    [5.1, 3.5, 1.4, 0.2],
    [7.0, 3.2, 4.7, 1.4],
    [6.3, 3.3, 6.0, 2.5],
    [5.0, 3.0, 1.6, 0.2],
    [7.2, 3.2, 6.0, 1.8],
  ];

  async function concurrentRuns(yaml: string): Promise<{ runs: number; labels: unknown[] }> {
    const harness = await serveYaml(yaml);
    const runs = countRuns();
    try {
      const responses = await Promise.all(
        [...rows, ...rows].map((input) => harness.app.inject({ method: 'POST', url: '/api/models/iris_logreg/prediction', payload: { input } })),
      );
      return { runs: runs.count, labels: responses.map((response) => response.json<{ label: number }>().label) };
    } finally {
      runs.restore();
      await harness.close();
    }
  }

  it('coalesces concurrent requests into fewer runs, each caller getting its own row', async () => {
    const { runs, labels } = await concurrentRuns(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n`);
    assert.deepEqual(labels, [0, 1, 2, 0, 2, 0, 1, 2, 0, 2]);
    assert.ok(runs < 10, `expected fewer than 10 runs for 10 concurrent requests, got ${runs}`);
  });

  it('runs once per request with batching: {policy: off}', async () => {
    const { runs, labels } = await concurrentRuns(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n    batching: {policy: off}\n`);
    assert.deepEqual(labels, [0, 1, 2, 0, 2, 0, 1, 2, 0, 2]);
    assert.equal(runs, 10);
  });

  it('caps each run at max_batch_size rows', async () => {
    const { runs } = await concurrentRuns(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n    batching: {max_batch_size: 2}\n`);
    assert.ok(runs >= 5, `10 rows in runs of at most 2 need at least 5 runs, got ${runs}`);
  });

  it('coalesces requests of a model with a dynamic inner dimension only when their shapes agree', async (t) => {
    const model = identityModel([{ name: 'tokens', type: 'int32', shape: ['N', 'L'] }], [{ name: 'same', type: 'int32', shape: ['N', 'L'] }]);
    const harness = await serveYaml(`models:\n  - model_path: ./seq.onnx\n`, { 'seq.onnx': model });
    t.after(() => harness.close());
    const runs = countRuns();
    t.after(() => runs.restore());
    const payloads = [{ tokens: [1, 2, 3] }, { tokens: [4, 5] }, { tokens: [7, 8, 9] }, { tokens: [6, 6] }];
    const responses = await Promise.all(payloads.map((payload) => harness.app.inject({ method: 'POST', url: '/api/models/seq/prediction', payload })));
    assert.deepEqual(
      responses.map((response) => response.json()),
      [{ same: [1, 2, 3] }, { same: [4, 5] }, { same: [7, 8, 9] }, { same: [6, 6] }],
    );
    assert.equal(runs.count, 2, 'two shape groups ([3] and [2]) make two runs');
  });
});

describe('ONNX empty batches', () => {
  it('answers an empty /predictions body with [] without running the model, batched or not', async (t) => {
    const model = identityModel([{ name: 'tokens', type: 'int32', shape: ['N', 'L'] }], [{ name: 'same', type: 'int32', shape: ['N', 'L'] }]);
    const harness = await serveYaml(`models:\n  - model_path: ./seq.onnx\n  - model_path: ./seq.onnx\n    qualified_name: seq_off\n    batching: {policy: off}\n`, { 'seq.onnx': model });
    t.after(() => harness.close());
    const runs = countRuns();
    t.after(() => runs.restore());
    for (const name of ['seq', 'seq_off']) {
      const response = await harness.app.inject({ method: 'POST', url: `/api/models/${name}/predictions`, payload: [] });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), []);
    }
    assert.equal(runs.count, 0);
  });
});

describe('ONNX inputs with several dynamic dimensions', () => {
  it('runs an empty outer array as a tensor of the right rank with zero-sized dims', async (t) => {
    const model = identityModel([{ name: 'x', type: 'float32', shape: ['N', 'A', 'B'] }], [{ name: 'y', type: 'float32', shape: ['N', 'A', 'B'] }]);
    const harness = await serveYaml(`models:\n  - model_path: ./dyn.onnx\n`, { 'dyn.onnx': model });
    t.after(() => harness.close());
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/dyn/prediction', payload: { x: [] } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { y: [] });
  });
});

describe('ONNX error paths name the record of a batch', () => {
  it('reports a ragged value inside the only record of a /predictions call at /0/…, and at /… through /prediction', async (t) => {
    const model = identityModel([{ name: 'x', type: 'float32', shape: ['N', 'A', 'B'] }], [{ name: 'y', type: 'float32', shape: ['N', 'A', 'B'] }]);
    const harness = await serveYaml(`models:\n  - model_path: ./dyn.onnx\n`, { 'dyn.onnx': model });
    t.after(() => harness.close());
    const batch = await harness.app.inject({ method: 'POST', url: '/api/models/dyn/predictions', payload: [{ x: [[1, 2], [3]] }] });
    assert.equal(batch.statusCode, 400);
    assert.equal(batch.json<{ details: { path: string }[] }>().details[0]?.path, '/0/x/1');
    const single = await harness.app.inject({ method: 'POST', url: '/api/models/dyn/prediction', payload: { x: [[1, 2], [3]] } });
    assert.equal(single.json<{ details: { path: string }[] }>().details[0]?.path, '/x/1');
  });
});

describe('ONNX eager batching under overload', () => {
  it('answers 503 QueueFullError with Retry-After beyond max_queue_size, and every other request its own row', async (t) => {
    const harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n    batching: {max_batch_size: 4}\n    max_queue_size: 8\n`);
    t.after(() => harness.close());
    const rows = [
      [5.1, 3.5, 1.4, 0.2],
      [7.0, 3.2, 4.7, 1.4],
      [6.3, 3.3, 6.0, 2.5],
    ];
    const expected = [0, 1, 2];
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => harness.app.inject({ method: 'POST', url: '/api/models/iris_logreg/prediction', payload: { input: rows[i % 3] } })),
    );
    const statuses = new Set(responses.map((response) => response.statusCode));
    assert.ok([...statuses].every((status) => status === 200 || status === 503), `statuses: ${[...statuses].join(', ')}`);
    const refused = responses.filter((response) => response.statusCode === 503);
    assert.ok(refused.length > 0, 'expected some requests to be refused');
    for (const response of refused) {
      assert.equal(response.json<{ type: string }>().type, 'QueueFullError');
      assert.equal(response.headers['retry-after'], '1');
    }
    responses.forEach((response, i) => {
      if (response.statusCode === 200) assert.equal(response.json<{ label: number }>().label, expected[i % 3]);
    });
  });
});
