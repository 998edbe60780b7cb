/**
 * The grpc_server_* metrics (go-grpc-prometheus's names) in GET /metrics: a count per method and status code, the
 * refusals of a size limit and of the auth check included, and the handling-time histogram; none of them without gRPC.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HEALTH_PROTO_FILE } from '../../src/grpc/server.ts';
import { FIXTURES, serve, type Served } from '../batching-http/http-harness.ts';
import { assertStatus, inferClient, serviceClient, status, type InferClient } from './grpc-helpers.ts';

const INFER = { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [5.1, 3.5, 1.4, 0.2] } }] };
const MODELS = `models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n    qualified_name: iris\n`;

async function scrape(served: Served): Promise<string> {
  return (await fetch(`${served.url}/metrics`)).text();
}

/** The value of the sample `name{labels}` (labels in the order written), or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const unary = (method: string, code: string) => `grpc_type="unary",grpc_service="inference.GRPCInferenceService",grpc_method="${method}",grpc_code="${code}"`;

describe('grpc_server_* metrics', () => {
  let served: Served;
  let client: InferClient;
  before(async () => {
    served = await serve(`server:\n  grpc_port: 0\n  grpc_max_message_bytes: 2000\n${MODELS}`);
    client = inferClient(served.server.grpcUrl as string);
  });
  after(async () => {
    client.close();
    await served.close();
  });

  it('count each call by method and code, and time it', async () => {
    for (let i = 0; i < 3; i++) await client.call('ModelInfer', INFER);
    await assertStatus(client.call('ModelInfer', { ...INFER, model_name: 'nope' }), status.NOT_FOUND);
    // Refused by grpc-js from the length prefix, before any handler: counted all the same.
    await assertStatus(client.call('ModelInfer', { ...INFER, inputs: [{ ...INFER.inputs[0], contents: { fp32_contents: new Array(1000).fill(1) } }] }), status.RESOURCE_EXHAUSTED);
    await client.call('ServerLive');
    const health = serviceClient(served.server.grpcUrl as string, [HEALTH_PROTO_FILE], 'grpc.health.v1.Health');
    await health.call('Check', { service: '' });
    health.close();

    const text = await scrape(served);
    assert.match(text, /# TYPE grpc_server_handled_total counter/);
    assert.match(text, /# TYPE grpc_server_handling_seconds histogram/);
    assert.equal(sample(text, 'grpc_server_handled_total', unary('ModelInfer', 'OK')), 3);
    assert.equal(sample(text, 'grpc_server_handled_total', unary('ModelInfer', 'NotFound')), 1);
    assert.equal(sample(text, 'grpc_server_handled_total', unary('ModelInfer', 'ResourceExhausted')), 1);
    assert.equal(sample(text, 'grpc_server_handled_total', unary('ServerLive', 'OK')), 1);
    assert.equal(sample(text, 'grpc_server_handled_total', 'grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK"'), 1);
    const timing = 'grpc_type="unary",grpc_service="inference.GRPCInferenceService",grpc_method="ModelInfer"';
    assert.equal(sample(text, 'grpc_server_handling_seconds_count', timing), 5);
    assert.equal(sample(text, 'grpc_server_handling_seconds_bucket', `${timing},le="+Inf"`), 5);
    // The per-model metrics count gRPC calls as REST ones.
    assert.match(text, /longshore_requests_total\{[^}]*model="iris"[^}]*\} 3/);
  });

  it('a cancelled Watch stream is counted Canceled, as a server_stream', async () => {
    const health = serviceClient(served.server.grpcUrl as string, [HEALTH_PROTO_FILE], 'grpc.health.v1.Health');
    const watch = health.stream('Watch', { service: '' });
    await watch.next();
    watch.cancel();
    await watch.ended;
    const labels = 'grpc_type="server_stream",grpc_service="grpc.health.v1.Health",grpc_method="Watch",grpc_code="Canceled"';
    for (let i = 0; i < 50 && sample(await scrape(served), 'grpc_server_handled_total', labels) === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(sample(await scrape(served), 'grpc_server_handled_total', labels), 1);
    health.close();
  });
});

describe('grpc_server_* metrics without gRPC', () => {
  it('are not registered', async () => {
    const served = await serve(MODELS);
    try {
      assert.doesNotMatch(await scrape(served), /grpc_server_/);
    } finally {
      await served.close();
    }
  });
});
