/**
 * Tracing on (docs/tracing.md), checked at an in-process OTLP/HTTP receiver: the span tree and attributes of a REST
 * prediction and of V2 infers sharing a batch (server span, decode, queue, batch linked to every request in it, model
 * run, encode), an incoming `traceparent` continued and the server span's sent back, log lines with trace_id and
 * span_id, and sampling_ratio 0 exporting nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { captureLogger, writeConfig } from '../helpers/service.ts';
import { startServerFromFile } from '../helpers/server.ts';
import { FIXTURES, readFixture, rowOf } from '../runtimes/onnx-harness.ts';
import type { RunningServer } from '../../src/server.ts';
import { startReceiver, type Receiver, type ReceivedSpan } from './otlp-receiver.ts';

const IRIS = readFixture('iris_logreg');
const INPUT = Object.keys(IRIS.inputs)[0] as string;
const TENSOR = IRIS.inputs[INPUT] as { datatype: string; shape: number[]; data: unknown[] };

function config(receiver: Receiver, samplingRatio = 1): string {
  return JSON.stringify({
    service_title: 'traced',
    logging: { access_log: true },
    tracing: { enabled: true, endpoint: receiver.url, sampling_ratio: samplingRatio, export_interval_ms: 20 },
    models: [{ model_path: `${FIXTURES}iris_logreg.onnx`, batching: { policy: 'timed', max_batch_size: 64, max_latency_ms: 150 } }],
  });
}

const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) => spans.filter((span) => span.parentSpanId === parent.spanId);
const named = (spans: ReceivedSpan[], name: string) => spans.filter((span) => span.name === name);

describe('tracing on', () => {
  let receiver: Receiver;
  let server: RunningServer;
  const { logger, lines } = captureLogger('info');
  before(async () => {
    receiver = await startReceiver();
    server = await startServerFromFile(writeConfig(config(receiver)), logger);
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  it('a REST prediction: a SERVER span continuing the caller\'s traceparent, with queue, batch (linked) and model run', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const response = await fetch(`${server.url}/api/models/iris_logreg/prediction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parentId}-01`, 'x-request-id': 'rest-1' },
      body: JSON.stringify({ [INPUT]: rowOf(TENSOR, 0) }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.json();
    const traceparent = response.headers.get('traceparent') ?? '';
    const [, sentTrace, serverSpanId, flags] = traceparent.split('-');
    assert.equal(sentTrace, traceId, 'the same trace continues');
    assert.equal(flags, '01');

    const spans = await receiver.waitFor((all) => all.some((s) => s.spanId === serverSpanId) && named(all.filter((s) => s.traceId === traceId), 'model.run').length > 0);
    const trace = spans.filter((span) => span.traceId === traceId);
    const root = trace.find((span) => span.spanId === serverSpanId) as ReceivedSpan;
    assert.equal(root.name, 'POST /api/models/{name}/prediction');
    assert.equal(root.kind, 2, 'SERVER');
    assert.equal(root.parentSpanId, parentId, "the caller's span is the parent");
    assert.equal(root.serviceName, 'traced', 'service.name defaults to service_title');
    assert.deepEqual(
      { ...root.attributes, 'client.address': undefined, 'network.protocol.version': undefined, 'user_agent.original': undefined },
      {
        'http.request.method': 'POST',
        'http.route': '/api/models/{name}/prediction',
        'url.path': '/api/models/iris_logreg/prediction',
        'url.scheme': 'http',
        'http.response.status_code': 200,
        'longshore.request.id': 'rest-1',
        'longshore.model.name': 'iris_logreg',
        'longshore.model.version': '1',
        'longshore.model.operation': 'predict',
        'client.address': undefined,
        'network.protocol.version': undefined,
        'user_agent.original': undefined,
      },
    );
    const under = childrenOf(trace, root).map((span) => span.name).sort();
    assert.deepEqual(under, ['batch', 'queue']);
    const batch = named(trace, 'batch')[0] as ReceivedSpan;
    assert.deepEqual(batch.links, [{ traceId, spanId: serverSpanId }]);
    assert.equal(batch.attributes['longshore.batch.size'], 1);
    assert.equal(batch.attributes['longshore.model.name'], 'iris_logreg');
    assert.equal(batch.attributes['longshore.model.version'], '1');
    assert.deepEqual(childrenOf(trace, batch).map((span) => span.name), ['model.run']);
    const queue = named(trace, 'queue')[0] as ReceivedSpan;
    assert.ok(queue.endNs <= batch.startNs + 1_000_000n, 'the queue wait ends when the batch starts');

    const access = lines.find((line) => line.request_id === 'rest-1');
    assert.ok(access, 'the access line of the request');
    assert.equal(access.trace_id, traceId);
    assert.equal(access.span_id, serverSpanId);
  });

  it('V2 infers sharing a batch: decode and encode under each request, one batch linked to all of them', async () => {
    const infer = (row: number) =>
      fetch(`${server.url}/v2/models/iris_logreg/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: INPUT, datatype: TENSOR.datatype, shape: [2, TENSOR.shape[1]], data: [rowOf(TENSOR, row), rowOf(TENSOR, row + 1)] }] }),
      });
    const responses = await Promise.all([infer(0), infer(1), infer(2)]);
    const ids = responses.map((response) => {
      assert.equal(response.status, 200);
      const [, traceId, spanId] = (response.headers.get('traceparent') ?? '').split('-');
      return { traceId: traceId as string, spanId: spanId as string };
    });
    assert.equal(new Set(ids.map((id) => id.traceId)).size, 3, 'a new trace per request without traceparent');
    const spans = await receiver.waitFor((all) => ids.every((id) => all.some((s) => s.spanId === id.spanId)) && all.some((s) => s.name === 'batch' && s.links.length === 3));
    for (const id of ids) {
      const root = spans.find((span) => span.spanId === id.spanId) as ReceivedSpan;
      assert.equal(root.name, 'POST /v2/models/{name}/infer');
      assert.equal(root.attributes['longshore.model.operation'], 'infer');
      const under = childrenOf(spans, root).map((span) => span.name);
      for (const step of ['decode', 'queue', 'encode']) assert.ok(under.includes(step), `${step} under the request: ${under.join(', ')}`);
    }
    const batch = spans.find((span) => span.name === 'batch' && span.links.length === 3) as ReceivedSpan;
    assert.deepEqual(new Set(batch.links.map((link) => link.spanId)), new Set(ids.map((id) => id.spanId)), 'linked to every request of the batch');
    assert.equal(batch.attributes['longshore.batch.size'], 6, 'rows');
    assert.equal(batch.attributes['longshore.batch.requests'], 3);
    const run = childrenOf(spans, batch);
    assert.deepEqual(run.map((span) => [span.name, span.attributes['longshore.batch.size']]), [['model.run', 6]]);
  });

  it('a 404 is traced with its status, not failed (a 4xx is the client\'s)', async () => {
    const response = await fetch(`${server.url}/api/models/nope/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 404);
    const spanId = (response.headers.get('traceparent') ?? '').split('-')[2];
    const spans = await receiver.waitFor((all) => all.some((s) => s.spanId === spanId));
    const root = spans.find((span) => span.spanId === spanId) as ReceivedSpan;
    assert.equal(root.attributes['http.response.status_code'], 404);
    assert.equal(root.status, 0);
  });

  it('spans are exported as OTLP JSON', () => assert.ok(receiver.contentTypes.every((type) => type.startsWith('application/json'))));
});

describe('tracing on, sampling_ratio 0', () => {
  it('exports nothing, and still answers a traceparent (not sampled)', async () => {
    const receiver = await startReceiver();
    const server = await startServerFromFile(writeConfig(config(receiver, 0)));
    try {
      const response = await fetch(`${server.url}/api/models/iris_logreg/prediction`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ [INPUT]: rowOf(TENSOR, 0) }),
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('traceparent') ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    } finally {
      await server.close(); // exports what is buffered
      await receiver.close();
    }
    assert.deepEqual(receiver.spans, []);
  });
});
