/**
 * GET /metrics on a real server after real traffic: REST predictions (ok, 400, 404 for an unknown model, 500 from a
 * failing model), a batch, V2 infer, health and unknown URLs. The HTTP metrics move per route template, the model
 * metrics per model (calls, failures by reason, readiness, load time, batch sizes), unknown URLs never become handler
 * label values, and the whole exposition validates (a strict parser here, and promtool when installed).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { serve, type Served } from '../batching-http/http-harness.ts';
import { FIXTURES } from '../runtimes/onnx-harness.ts';
import { fixture, IRIS_CLASS_PATH } from '../helpers/service.ts';
import { labelValues, parseExposition, PROMTOOL, promtoolCheck, samplesOf, valueOf, type Family } from './exposition.ts';

const IRIS_INPUT = (JSON.parse(readFileSync(`${FIXTURES}iris_logreg.json`, 'utf8')) as { inputs: { input: { data: number[] } } }).inputs.input.data;
const IRIS_RECORD = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const PREDICTION = '/api/models/{name}/prediction';

const yaml = JSON.stringify({
  models: [
    { class_path: IRIS_CLASS_PATH, configuration: { coefficients_path: './iris_logreg_coefficients.json' } },
    { model_path: `${FIXTURES}iris_logreg.onnx`, qualified_name: 'iris_onnx' },
    { class_path: fixture('throwing-predict.ts', 'ThrowingPredictModel') },
  ],
});

async function post(url: string, body: unknown): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await response.arrayBuffer();
  return response.status;
}

async function get(url: string): Promise<number> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

describe('GET /metrics after real traffic', () => {
  let served: Served;
  let text: string;
  let contentType: string | null;
  let metrics: Map<string, Family>;

  before(async () => {
    served = await serve(yaml);
    const { url } = served;
    for (let i = 0; i < 3; i++) assert.equal(await post(`${url}/api/models/iris_model/prediction`, IRIS_RECORD), 200);
    assert.equal(await post(`${url}/api/models/iris_model/prediction`, { sepal_length: 'long' }), 400);
    assert.equal(await post(`${url}/api/models/zzz/prediction`, IRIS_RECORD), 404);
    assert.equal(await post(`${url}/api/models/thrower/prediction`, {}), 500);
    assert.equal(await post(`${url}/api/models/iris_model/predictions`, [IRIS_RECORD, IRIS_RECORD]), 200);
    assert.equal(await post(`${url}/v2/models/iris_onnx/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [5, 4], data: IRIS_INPUT }] }), 200);
    assert.equal(await get(`${url}/api/health`), 200);
    assert.equal(await get(`${url}/api/health`), 200);
    assert.equal(await get(`${url}/nope/123`), 404);
    assert.equal(await get(`${url}/nope/456?x=1`), 404);
    assert.equal(await get(`${url}/api/models/zzz/prediction`), 404); // a template's URL, but no GET route
    const response = await fetch(`${url}/metrics`);
    assert.equal(response.status, 200);
    contentType = response.headers.get('content-type');
    text = await response.text();
    metrics = parseExposition(text);
  });
  after(() => served.close());

  it('answers in the Prometheus text format with the registry content type', () => {
    assert.equal(contentType, served.service.metrics.registry.contentType);
    assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);
  });

  it('counts requests per route template, method and status class', () => {
    assert.equal(valueOf(metrics, 'http_requests_total', { method: 'POST', status: '2xx', handler: PREDICTION }), 3);
    assert.equal(valueOf(metrics, 'http_requests_total', { method: 'POST', status: '4xx', handler: PREDICTION }), 2, '400 and the unknown model');
    assert.equal(valueOf(metrics, 'http_requests_total', { method: 'POST', status: '5xx', handler: PREDICTION }), 1);
    assert.equal(valueOf(metrics, 'http_requests_total', { method: 'POST', status: '2xx', handler: '/api/models/{name}/predictions' }), 1);
    assert.equal(valueOf(metrics, 'http_requests_total', { method: 'POST', status: '2xx', handler: '/v2/models/{name}/infer' }), 1);
    assert.equal(valueOf(metrics, 'http_requests_total', { method: 'GET', status: '2xx', handler: '/api/health' }), 2);
    assert.equal(valueOf(metrics, 'http_requests_total', { method: 'GET', status: '4xx', handler: 'none' }), 3);
  });

  it('never makes a label value of a raw URL: unknown URLs are grouped under handler none', () => {
    const handlers = new Set([
      ...labelValues(metrics, 'http_requests_total', 'handler'),
      ...labelValues(metrics, 'http_request_duration_seconds_count', 'handler'),
      ...labelValues(metrics, 'http_request_size_bytes_count', 'handler'),
      ...labelValues(metrics, 'http_response_size_bytes_count', 'handler'),
    ]);
    assert.deepEqual([...handlers].sort(), ['/api/health', '/api/models/{name}/prediction', '/api/models/{name}/predictions', '/v2/models/{name}/infer', 'none']);
    assert.doesNotMatch(text, /zzz|nope|iris_model\/prediction/);
  });

  it('times every request in both histograms, with the instrumentator buckets', () => {
    const total = samplesOf(metrics, 'http_requests_total').reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(total, 13);
    assert.equal(valueOf(metrics, 'http_request_duration_highr_seconds_count'), total);
    const highrBuckets = samplesOf(metrics, 'http_request_duration_highr_seconds_bucket');
    assert.ok(highrBuckets.length > 20, `${highrBuckets.length} buckets`);
    assert.deepEqual(highrBuckets.map((b) => b.labels.le).slice(0, 3), ['0.01', '0.025', '0.05']);
    assert.equal(highrBuckets.at(-2)?.labels.le, '60');
    assert.equal(valueOf(metrics, 'http_request_duration_seconds_count', { method: 'POST', handler: PREDICTION }), 6);
    const lowr = samplesOf(metrics, 'http_request_duration_seconds_bucket').filter((b) => b.labels.handler === PREDICTION);
    assert.deepEqual(lowr.map((b) => b.labels.le), ['0.1', '0.5', '1', '+Inf']);
    assert.ok((valueOf(metrics, 'http_request_duration_seconds_sum', { method: 'POST', handler: PREDICTION }) ?? 0) > 0);
    assert.equal(metrics.get('http_request_duration_highr_seconds')?.type, 'histogram');
  });

  it('sums request and response sizes per handler as summaries without quantiles', () => {
    assert.equal(metrics.get('http_request_size_bytes')?.type, 'summary');
    assert.equal(metrics.get('http_response_size_bytes')?.type, 'summary');
    assert.equal(valueOf(metrics, 'http_request_size_bytes_count', { handler: PREDICTION }), 6);
    const sent = 4 * JSON.stringify(IRIS_RECORD).length + JSON.stringify({ sepal_length: 'long' }).length + 2;
    assert.equal(valueOf(metrics, 'http_request_size_bytes_sum', { handler: PREDICTION }), sent);
    assert.equal(valueOf(metrics, 'http_request_size_bytes_sum', { handler: '/api/health' }), 0, 'a GET has no content-length');
    assert.ok((valueOf(metrics, 'http_response_size_bytes_sum', { handler: PREDICTION }) ?? 0) > 6 * 20);
    assert.ok((valueOf(metrics, 'http_response_size_bytes_sum', { handler: 'none' }) ?? 0) > 3 * 50);
    assert.ok(!text.includes('quantile='));
  });

  it('counts model calls and failures by reason, per model', () => {
    const iris = { model: 'iris_model', version: '1.0.0' };
    assert.equal(valueOf(metrics, 'longshore_requests_total', { ...iris, operation: 'predict' }), 4);
    assert.equal(valueOf(metrics, 'longshore_requests_total', { ...iris, operation: 'predict_batch' }), 1);
    assert.equal(valueOf(metrics, 'longshore_request_failures_total', { ...iris, operation: 'predict', reason: 'SchemaValidationError' }), 1);
    assert.equal(valueOf(metrics, 'longshore_request_failures_total', { model: 'thrower', version: '1.0.0', operation: 'predict', reason: 'InferenceError' }), 1);
    assert.equal(valueOf(metrics, 'longshore_requests_total', { model: 'iris_onnx', version: '1', operation: 'infer' }), 1);
    assert.ok(!labelValues(metrics, 'longshore_requests_total', 'model').includes('zzz'));
  });

  it('reports readiness, load time and batch sizes per model', () => {
    for (const [model, version] of [['iris_model', '1.0.0'], ['iris_onnx', '1'], ['thrower', '1.0.0']] as const) {
      assert.equal(valueOf(metrics, 'longshore_model_ready', { model, version }), 1, model);
      assert.ok((valueOf(metrics, 'longshore_model_load_duration_seconds', { model, version }) ?? 0) > 0, model);
    }
    assert.equal(valueOf(metrics, 'longshore_batch_size_count', { model: 'iris_onnx', version: '1' }), 1);
    assert.equal(valueOf(metrics, 'longshore_batch_size_sum', { model: 'iris_onnx', version: '1' }), 5, 'the V2 request had 5 rows');
    assert.equal(valueOf(metrics, 'longshore_batch_size_bucket', { model: 'iris_onnx', version: '1', le: '4' }), 0);
    assert.equal(valueOf(metrics, 'longshore_batch_size_bucket', { model: 'iris_onnx', version: '1', le: '8' }), 1);
    assert.equal(valueOf(metrics, 'longshore_inference_duration_seconds_count', { model: 'iris_onnx', version: '1' }), 1);
    assert.equal(valueOf(metrics, 'longshore_queue_depth', { model: 'iris_onnx', version: '1' }), 0);
  });

  it('includes the Node process metrics (process_metrics defaults to true)', () => {
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(metrics.has(name), name);
    }
  });

  it('counts the scrape itself under /metrics on the next scrape (as the instrumentator does)', async () => {
    const again = parseExposition(await (await fetch(`${served.url}/metrics`)).text());
    assert.equal(valueOf(again, 'http_requests_total', { method: 'GET', status: '2xx', handler: '/metrics' }), 1);
  });

  it('is valid for promtool', { skip: PROMTOOL ? false : 'promtool is not installed (apt-get install prometheus)' }, () => {
    const { status, output } = promtoolCheck(text);
    // Exit 3 is "lint problems only"; the instrumentator's own names (http_request_size_bytes summaries, the
    // process metrics of prom-client) are fixed by compatibility, so only errors fail the test.
    assert.ok(status === 0 || status === 3, `promtool exit ${status}: ${output}`);
    assert.doesNotMatch(output, /error/i, output);
  });
});

describe('the strict exposition parser', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';
  it('accepts a valid exposition', () => {
    assert.equal(valueOf(parseExposition(ok), 'a_total', { x: '1' }), 2);
  });
  for (const [what, text] of [
    ['no trailing newline', ok.trimEnd()],
    ['a bad escape', '# TYPE a gauge\na{x="\\q"} 1\n'],
    ['a duplicate series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ['a family split in two', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['a negative counter', '# TYPE a_total counter\na_total -1\n'],
    ['buckets that shrink', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['+Inf differing from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
    ['a bad value', '# TYPE a gauge\na one\n'],
    ['a bad label name', '# TYPE a gauge\na{1x="1"} 1\n'],
  ] as const) {
    it(`rejects ${what}`, () => assert.throws(() => parseExposition(text)));
  }
});
