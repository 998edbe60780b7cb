/**
 * Tracing on a gRPC ModelInfer (docs/tracing.md, docs/grpc.md): a SERVER span `inference.GRPCInferenceService/ModelInfer`
 * continuing the `traceparent` of the call's metadata, sending its own back in the initial metadata, with decode,
 * queue, batch, model run and encode under it, the RPC attributes and the status code.
 */
import assert from 'node:assert/strict';
import { Metadata } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.ts';
import { inferClient, type InferClient } from '../grpc/grpc-helpers.ts';
import { startServerFromFile } from '../helpers/server.ts';
import { writeConfig } from '../helpers/service.ts';
import { FIXTURES } from '../runtimes/onnx-harness.ts';
import { startReceiver, type Receiver, type ReceivedSpan } from './otlp-receiver.ts';

describe('tracing a gRPC ModelInfer', () => {
  let receiver: Receiver;
  let server: RunningServer;
  let client: InferClient;
  before(async () => {
    receiver = await startReceiver();
    const config = {
      server: { grpc_port: 0 },
      tracing: { enabled: true, endpoint: receiver.url, sampling_ratio: 1, export_interval_ms: 20 },
      models: [{ model_path: `${FIXTURES}iris_logreg.onnx` }],
    };
    server = await startServerFromFile(writeConfig(JSON.stringify(config)));
    client = inferClient(server.grpcUrl as string);
  });
  after(async () => {
    client.close();
    await server.close();
    await receiver.close();
  });

  it('continues the caller\'s trace, sends the server span back, and nests the steps under it', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parentId = 'b7ad6b7169203331';
    const metadata = new Metadata();
    metadata.set('traceparent', `00-${traceId}-${parentId}-01`);
    const request = { model_name: 'iris_logreg', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [5.1, 3.5, 1.4, 0.2] } }] };
    const sent = await new Promise<string>((resolve, reject) => {
      const modelInfer = client.raw.ModelInfer as NonNullable<typeof client.raw.ModelInfer>;
      const call = modelInfer.call(client.raw, request, metadata, {}, (error) => (error ? reject(error) : undefined)) as unknown as { on(event: 'metadata', listener: (m: Metadata) => void): void };
      call.on('metadata', (received) => resolve(String(received.get('traceparent')[0] ?? '')));
    });
    const [, sentTrace, serverSpanId, flags] = sent.split('-');
    assert.equal(sentTrace, traceId);
    assert.equal(flags, '01');

    const spans = await receiver.waitFor((all) => all.some((span) => span.spanId === serverSpanId) && all.some((span) => span.traceId === traceId && span.name === 'encode'));
    const trace = spans.filter((span) => span.traceId === traceId);
    const root = trace.find((span) => span.spanId === serverSpanId) as ReceivedSpan;
    assert.equal(root.name, 'inference.GRPCInferenceService/ModelInfer');
    assert.equal(root.kind, 2, 'SERVER');
    assert.equal(root.parentSpanId, parentId);
    assert.equal(root.attributes['rpc.system'], 'grpc');
    assert.equal(root.attributes['rpc.method'], 'ModelInfer');
    assert.equal(root.attributes['rpc.grpc.status_code'], 0);
    assert.equal(root.attributes['longshore.model.name'], 'iris_logreg');
    const under = new Set(trace.filter((span) => span.parentSpanId === root.spanId).map((span) => span.name));
    for (const name of ['decode', 'queue', 'encode']) assert.ok(under.has(name), `${name} under the server span (got ${[...under].join(', ')})`);
    assert.ok(trace.some((span) => span.name === 'model.run'), 'the model run is traced');
  });

  it('records a client mistake\'s status without failing the span', async () => {
    await assert.rejects(client.call('ModelInfer', { model_name: 'nope', inputs: [] }));
    const spans = await receiver.waitFor((all) => all.some((span) => span.attributes['longshore.model.name'] === 'nope'));
    const root = spans.find((span) => span.attributes['longshore.model.name'] === 'nope') as ReceivedSpan;
    assert.equal(root.attributes['rpc.grpc.status_code'], 5);
    assert.notEqual(root.status, 2, 'NOT_FOUND is not a server error');
  });
});
