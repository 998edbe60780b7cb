/**
 * grpc.health.v1.Health and server reflection through real grpc-js clients: Check, List and Watch for the server ("")
 * and for a model (unknown: NOT_FOUND, SERVICE_UNKNOWN on Watch), Watch following an unload and a load, and ending
 * NOT_SERVING at shutdown; reflection (v1 and v1alpha) listing and describing the services, the repository one only
 * when server.repository_api is on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HEALTH_PROTO_FILE } from '../../src/grpc/server.ts';
import { serve, type Served } from '../batching-http/http-harness.ts';
import { fixture, REPO_ROOT } from '../helpers/service.ts';
import { assertStatus, serviceClient, status, type ServiceClient } from './grpc-helpers.ts';

const REFLECTION_PROTO = (version: string) => join(REPO_ROOT, `node_modules/@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`);
const MODEL = (label: string) => `  - class_path: ${fixture('versioned.ts', 'VersionedModel')}\n    qualified_name: m\n    configuration: {label: ${label}}\n`;

/** The service names reflection lists. */
async function listed(url: string, version: 'v1' | 'v1alpha'): Promise<string[]> {
  const client = serviceClient(url, [REFLECTION_PROTO(version)], `grpc.reflection.${version}.ServerReflection`);
  try {
    const [answer] = await client.bidi<{ list_services_response: { service: { name: string }[] } }>('ServerReflectionInfo', [{ list_services: '' }]);
    return (answer?.list_services_response.service ?? []).map((service) => service.name).sort();
  } finally {
    client.close();
  }
}

describe('gRPC health and reflection', () => {
  let served: Served;
  let health: ServiceClient;

  before(async () => {
    served = await serve(`server:\n  grpc_port: 0\n  repository_api: true\nmodels:\n${MODEL('a')}`);
    health = serviceClient(served.server.grpcUrl as string, [HEALTH_PROTO_FILE], 'grpc.health.v1.Health');
  });
  after(async () => {
    health.close();
    await served.close();
  });

  it('Check: "" and inference.GRPCInferenceService are the server, a model name is the model, anything else NOT_FOUND', async () => {
    assert.deepEqual(await health.call('Check', { service: '' }), { status: 'SERVING' });
    assert.deepEqual(await health.call('Check', { service: 'inference.GRPCInferenceService' }), { status: 'SERVING' });
    assert.deepEqual(await health.call('Check', { service: 'm' }), { status: 'SERVING' });
    await assertStatus(health.call('Check', { service: 'nope' }), status.NOT_FOUND, /no health status for service 'nope'/, 'ModelNotFoundError');
  });

  it('List gives the server and every model', async () => {
    const { statuses } = await health.call<{ statuses: Record<string, { status: string }> }>('List');
    assert.deepEqual(statuses, { '': { status: 'SERVING' }, 'inference.GRPCInferenceService': { status: 'SERVING' }, m: { status: 'SERVING' } });
  });

  it('Watch streams a model\'s changes (unload: SERVICE_UNKNOWN, load: SERVING) and SERVICE_UNKNOWN for an unknown name', async () => {
    const unknown = health.stream('Watch', { service: 'nope' });
    assert.deepEqual(await unknown.next(), { status: 'SERVICE_UNKNOWN' });
    unknown.cancel();
    const watch = health.stream('Watch', { service: 'm' });
    assert.deepEqual(await watch.next(), { status: 'SERVING' });
    await served.service.dataplane.unloadModel('m', false);
    // Unloaded, the model is unknown (as ModelReady's NOT_FOUND says): SERVICE_UNKNOWN, and the stream goes on.
    assert.deepEqual(await watch.next(), { status: 'SERVICE_UNKNOWN' });
    await assertStatus(health.call('Check', { service: 'm' }), status.NOT_FOUND);
    await served.service.dataplane.loadModel('m', undefined);
    assert.deepEqual(await watch.next(), { status: 'SERVING' });
    watch.cancel();
    assert.equal((await watch.ended)?.code, status.CANCELLED);
  });

  it('reflection lists the inference, health and repository services (v1 and v1alpha) and describes them', async () => {
    const url = served.server.grpcUrl as string;
    const expected = ['grpc.health.v1.Health', 'inference.GRPCInferenceService', 'inference.GRPCRepositoryService'];
    assert.deepEqual(await listed(url, 'v1'), expected);
    assert.deepEqual(await listed(url, 'v1alpha'), expected);
    const client = serviceClient(url, [REFLECTION_PROTO('v1')], 'grpc.reflection.v1.ServerReflection');
    const [answer] = await client.bidi<{ file_descriptor_response: { file_descriptor_proto: Buffer[] } }>('ServerReflectionInfo', [{ file_containing_symbol: 'inference.GRPCRepositoryService' }]);
    client.close();
    const files = answer?.file_descriptor_response.file_descriptor_proto ?? [];
    assert.ok(files.some((file) => file.toString('latin1').includes('RepositoryModelLoad')), 'the descriptor names RepositoryModelLoad');
  });

  it('at shutdown, Watch of the server says NOT_SERVING and ends', async () => {
    const own = await serve(`server:\n  grpc_port: 0\nmodels:\n${MODEL('b')}`);
    const client = serviceClient(own.server.grpcUrl as string, [HEALTH_PROTO_FILE], 'grpc.health.v1.Health');
    const watch = client.stream('Watch', { service: '' });
    assert.deepEqual(await watch.next(), { status: 'SERVING' });
    assert.deepEqual(await listed(own.server.grpcUrl as string, 'v1'), ['grpc.health.v1.Health', 'inference.GRPCInferenceService']);
    const closing = own.close();
    assert.deepEqual(await watch.next(), { status: 'NOT_SERVING' });
    assert.equal(await watch.ended, null);
    await closing;
    client.close();
  });
});
