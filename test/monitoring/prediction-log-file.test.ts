/**
 * The prediction log to a file, over a real server (127.0.0.1, port 0): under concurrent load every sampled call
 * (REST predict and predict_batch, V2 infer, failing 400s) has exactly one well-formed record with the response's
 * request id and what was sent and answered; sample_every and sample_rate; include; per-model overrides and
 * metricsFor(); size-based rotation; shutdown writes what is still buffered.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture } from '../helpers/service.ts';
import { json, postJson, serve, type RawAnswer } from '../batching-http/http-harness.ts';
import { assertWellFormed, irisEntry, irisOnnxEntry, irisRecord, metricValue, readRecords, yamlOf, type LogRecord } from './monitoring-harness.ts';

const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
after(() => agent.destroy());

function fileMonitoring(extra: Record<string, unknown> = {}, destination: Record<string, unknown> = {}): Record<string, unknown> {
  return { enabled: true, batch_size: 50, flush_interval_ms: 50, ...extra, destination: { type: 'file', path: 'logs/predictions.jsonl', ...destination } };
}

function requestId(answer: RawAnswer): string {
  const id = answer.headers['x-request-id'];
  assert.equal(typeof id, 'string');
  return id as string;
}

function byRequestId(records: LogRecord[]): Map<string, LogRecord> {
  const map = new Map<string, LogRecord>();
  for (const record of records) {
    assert.ok(record.request_id, 'every record over HTTP has a request id');
    assert.ok(!map.has(record.request_id), `request ${record.request_id} logged once`);
    map.set(record.request_id, record);
  }
  return map;
}

interface V2Output {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

describe('prediction log to a file', () => {
  it('logs every call exactly once under load: REST predict and predict_batch, V2 infer, failing 400s (sample_every 1)', async () => {
    const served = await serve(yamlOf({ monitoring: fileMonitoring({ sample_every: 1 }), models: [irisEntry(), irisOnnxEntry()] }));
    const path = join(served.dir, 'logs/predictions.jsonl');
    type Sent = { kind: 'predict' | 'batch' | 'infer' | 'bad'; body: unknown; answer: RawAnswer };
    const plans: Promise<Sent>[] = [];
    const send = (kind: Sent['kind'], url: string, body: unknown) => plans.push(postJson(served.url, url, body, {}, agent).then((answer) => ({ kind, body, answer })));
    for (let i = 0; i < 500; i++) send('predict', '/api/models/iris_model/prediction', irisRecord(i));
    for (let i = 0; i < 40; i++) send('batch', '/api/models/iris_model/predictions', [irisRecord(i), irisRecord(i + 1), irisRecord(i + 2)]);
    for (let i = 0; i < 60; i++) {
      const data = [...Object.values(irisRecord(i)), ...Object.values(irisRecord(i + 5))];
      send('infer', '/v2/models/iris_onnx/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data }] });
    }
    for (let i = 0; i < 40; i++) send('bad', '/api/models/iris_model/prediction', { ...irisRecord(i), sepal_length: -1 });
    const sent = await Promise.all(plans);
    for (const { kind, answer } of sent) assert.equal(answer.status, kind === 'bad' ? 400 : 200, answer.body.toString('utf8'));

    await served.close();
    const records = readRecords(path);
    assert.equal(records.length, sent.length, 'one record per call');
    const logged = byRequestId(records);
    for (const { kind, body, answer } of sent) {
      const record = logged.get(requestId(answer));
      assert.ok(record, `the ${kind} call ${requestId(answer)} is logged`);
      assertWellFormed(record);
      switch (kind) {
        case 'predict':
        case 'batch':
          assert.equal(record.model, 'iris_model');
          assert.equal(record.version, '1.0.0');
          assert.equal(record.operation, kind === 'predict' ? 'predict' : 'predict_batch');
          assert.deepEqual(record.inputs, body);
          assert.deepEqual(record.outputs, json(answer));
          break;
        case 'bad':
          assert.equal(record.operation, 'predict');
          assert.deepEqual(record.inputs, body);
          assert.equal(record.error?.type, 'SchemaValidationError');
          assert.match(record.error?.message ?? '', /sepal_length/);
          assert.ok(!('outputs' in record));
          break;
        case 'infer': {
          assert.equal(record.model, 'iris_onnx');
          assert.equal(record.operation, 'infer');
          assert.deepEqual(record.inputs, (body as { inputs: unknown }).inputs);
          const outputs = json<{ outputs: V2Output[] }>(answer).outputs.map(({ name, datatype, shape, data }) => ({ name, datatype, shape, data }));
          assert.deepEqual(record.outputs, outputs);
          const label = (record.outputs as V2Output[]).find((output) => output.name === 'label');
          assert.equal(label?.datatype, 'INT64');
          for (const value of label?.data ?? []) assert.equal(typeof value, 'number', 'INT64 elements are JSON numbers');
          break;
        }
      }
    }
    assert.equal(await metricValue(served.service, 'longshore_prediction_log_records_total', { destination: 'file' }), sent.length);
    assert.equal(await metricValue(served.service, 'longshore_prediction_log_dropped_total'), 0);
    assert.equal(await metricValue(served.service, 'longshore_prediction_log_write_failures_total'), 0);
  });

  it('sample_every 10 logs exactly one call in ten', async () => {
    const served = await serve(yamlOf({ monitoring: fileMonitoring({ sample_every: 10 }), models: [irisEntry()] }));
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => postJson(served.url, '/api/models/iris_model/prediction', irisRecord(i), {}, agent)));
    for (const answer of answers) assert.equal(answer.status, 200);
    await served.close();
    const records = readRecords(join(served.dir, 'logs/predictions.jsonl'));
    assert.equal(records.length, 50);
    const ids = new Set(answers.map(requestId));
    for (const [id, record] of byRequestId(records)) {
      assert.ok(ids.has(id));
      assertWellFormed(record);
    }
  });

  it('sample_rate 0.5 logs about half the calls', async () => {
    const served = await serve(yamlOf({ monitoring: fileMonitoring({ sample_rate: 0.5 }), models: [irisEntry()] }));
    const answers = await Promise.all(Array.from({ length: 400 }, (_, i) => postJson(served.url, '/api/models/iris_model/prediction', irisRecord(i), {}, agent)));
    for (const answer of answers) assert.equal(answer.status, 200);
    await served.close();
    const records = readRecords(join(served.dir, 'logs/predictions.jsonl'));
    assert.ok(records.length > 130 && records.length < 270, `${records.length} of 400 logged`);
    byRequestId(records);
  });

  it('include: inputs, outputs or both; per-model overrides of the server-wide settings; metricsFor()', async () => {
    const monitored = (name: string, monitoring?: Record<string, unknown>) => ({
      class_path: fixture('monitored.ts', 'MonitoredModel'),
      qualified_name: name,
      ...(monitoring ? { monitoring } : {}),
    });
    const served = await serve(
      yamlOf({
        monitoring: fileMonitoring({ sample_every: 1 }),
        models: [
          monitored('both'),
          monitored('inputs_only', { include: 'inputs' }),
          monitored('outputs_only', { include: 'outputs' }),
          // Its own file (the destination replaces the server's as a whole; max_bytes etc. take their defaults).
          monitored('elsewhere', { destination: { type: 'file', path: 'other/elsewhere.jsonl' } }),
          // sample_every over the server's sample_every; every other key still the server's.
          monitored('every_third', { sample_every: 3 }),
          // sample_rate replaces the server's sample_every (they exclude each other).
          monitored('none_sampled', { sample_rate: 0 }),
          monitored('off', { enabled: false }),
        ],
      }),
    );
    const names = ['both', 'inputs_only', 'outputs_only', 'elsewhere', 'every_third', 'none_sampled', 'off'];
    const answers = new Map<string, RawAnswer[]>();
    for (const name of names) {
      const list: RawAnswer[] = [];
      for (const x of [1, 6, 13, 2, 7, 3]) list.push(await postJson(served.url, `/api/models/${name}/prediction`, { x }, {}, agent));
      answers.set(name, list);
    }
    for (const list of answers.values()) assert.deepEqual(list.map((a) => a.status), [200, 200, 500, 200, 200, 200]);
    await served.close();

    const main = readRecords(join(served.dir, 'logs/predictions.jsonl'));
    const elsewhere = readRecords(join(served.dir, 'other/elsewhere.jsonl'));
    for (const record of [...main, ...elsewhere]) assertWellFormed(record);
    const of = (records: LogRecord[], model: string) => records.filter((record) => record.model === model);

    const both = of(main, 'both');
    assert.equal(both.length, 6);
    assert.deepEqual(both[0], { ...both[0], version: '3', operation: 'predict', inputs: { x: 1 }, outputs: { doubled: 2 }, metrics: { magnitude: 1, over_ten: 0 } });
    assert.deepEqual(both[1]?.metrics, { magnitude: 6, over_ten: 1 });
    assert.deepEqual(both[2]?.inputs, { x: 13 });
    assert.equal(both[2]?.error?.type, 'InferenceError');
    assert.match(both[2]?.error?.message ?? '', /unlucky input/);
    assert.ok(!('outputs' in (both[2] as LogRecord)) && !('metrics' in (both[2] as LogRecord)), 'a failed call has an error, no outputs, no metrics');
    assert.equal(both[0]?.request_id, requestId(answers.get('both')?.[0] as RawAnswer));

    const inputsOnly = of(main, 'inputs_only');
    assert.equal(inputsOnly.length, 6);
    for (const record of inputsOnly) assert.ok('inputs' in record && !('outputs' in record), JSON.stringify(record));
    assert.equal(inputsOnly[2]?.error?.type, 'InferenceError', 'the error is kept with include inputs');

    const outputsOnly = of(main, 'outputs_only');
    assert.equal(outputsOnly.length, 6);
    for (const record of outputsOnly) assert.ok(!('inputs' in record), JSON.stringify(record));
    assert.deepEqual(outputsOnly[0]?.outputs, { doubled: 2 });
    assert.equal(outputsOnly[2]?.error?.type, 'InferenceError');

    assert.equal(of(main, 'elsewhere').length, 0);
    assert.deepEqual(of(elsewhere, 'elsewhere').map((record) => record.inputs), [1, 6, 13, 2, 7, 3].map((x) => ({ x })));
    assert.equal(elsewhere.length, 6);

    assert.deepEqual(of(main, 'every_third').map((record) => record.inputs), [{ x: 1 }, { x: 2 }]);
    assert.equal(of(main, 'none_sampled').length, 0);
    assert.equal(of(main, 'off').length, 0);
    assert.equal(main.length, 6 * 3 + 2);
  });

  it('rotates the file by max_bytes and keeps max_files rotated files', async () => {
    const maxBytes = 4000;
    const served = await serve(
      yamlOf({
        monitoring: fileMonitoring({ batch_size: 7, flush_interval_ms: 20 }, { path: 'rot/predictions.jsonl', max_bytes: maxBytes, max_files: 2 }),
        models: [{ class_path: fixture('monitored.ts', 'MonitoredModel') }],
      }),
    );
    for (let x = 0; x < 150; x++) {
      if (x === 13) continue; // the fixture's failing input
      assert.equal((await postJson(served.url, '/api/models/monitored/prediction', { x }, {}, agent)).status, 200);
    }
    await served.close();
    const dir = join(served.dir, 'rot');
    assert.deepEqual(readdirSync(dir).sort(), ['predictions.jsonl', 'predictions.jsonl.1', 'predictions.jsonl.2']);
    const files = ['predictions.jsonl.2', 'predictions.jsonl.1', 'predictions.jsonl'].map((name) => join(dir, name));
    const kept: LogRecord[] = [];
    for (const file of files) {
      const size = statSync(file).size;
      assert.ok(size > 0 && size <= maxBytes, `${file}: ${size} bytes`);
      kept.push(...readRecords(file));
    }
    // The rotated files were full: one more record would not have fit.
    for (const file of files.slice(0, 2)) assert.ok(statSync(file).size > maxBytes - 400, `${file} was rotated when full`);
    const xs = kept.map((record) => (record.inputs as { x: number }).x);
    const expected = Array.from({ length: 150 }, (_, x) => x).filter((x) => x !== 13).slice(-xs.length);
    assert.deepEqual(xs, expected, 'the newest records, in order, across the kept files');
    assert.ok(xs.length < 149, 'the oldest files were deleted');
    assert.ok(!existsSync(join(dir, 'predictions.jsonl.3')));
  });

  it('writes the records still buffered at shutdown', async () => {
    const served = await serve(yamlOf({ monitoring: fileMonitoring({ batch_size: 10_000, flush_interval_ms: 600_000 }), models: [irisEntry()] }));
    const path = join(served.dir, 'logs/predictions.jsonl');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => postJson(served.url, '/api/models/iris_model/prediction', irisRecord(i), {}, agent)));
    for (const answer of answers) assert.equal(answer.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(readRecords(path).length, 0, 'nothing written before a batch fills or the interval passes');
    assert.equal(await metricValue(served.service, 'longshore_prediction_log_buffered_records', { model: 'iris_model' }), 30);
    await served.close();
    const records = readRecords(path);
    assert.equal(records.length, 30);
    assert.deepEqual(new Set(records.map((record) => record.request_id)), new Set(answers.map(requestId)));
    assert.equal(await metricValue(served.service, 'longshore_prediction_log_buffered_records', { model: 'iris_model' }), 0);
  });
});
