/**
 * The repository calls over gRPC (server.repository_api), through grpc-js clients of proto/model_repository.proto:
 * under /inference.GRPCInferenceService/... (Triton's clients' paths) and as inference.GRPCRepositoryService; index,
 * load (from the config, and with a config parameter), unload, their errors; UNIMPLEMENTED when the API is off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REPOSITORY_PROTO_FILE } from '../../src/grpc/server.ts';
import { serve, type Served } from '../batching-http/http-harness.ts';
import { fixture } from '../helpers/service.ts';
import { assertStatus, serviceClient, status, tritonPathClient, type ServiceClient } from './grpc-helpers.ts';

const VERSIONED = fixture('versioned.ts', 'VersionedModel');
const entry = (label: string, extra: Record<string, unknown> = {}) => ({ class_path: VERSIONED, qualified_name: 'm', configuration: { label, ...extra } });
const YAML = (api: boolean) => `server:\n  grpc_port: 0\n  repository_api: ${api}\nmodels:\n  - class_path: ${VERSIONED}\n    qualified_name: m\n    configuration: {label: a}\n`;
const config = (value: unknown) => ({ config: { string_param: JSON.stringify(value) } });

async function labelOf(served: Served): Promise<string> {
  const answer = await served.client.predict('m', { x: 1 });
  return (answer as { label: string }).label;
}

describe('gRPC repository calls, server.repository_api on', () => {
  let served: Served;
  let triton: ServiceClient;
  let own: ServiceClient;
  before(async () => {
    served = await serve(YAML(true));
    triton = tritonPathClient(served.server.grpcUrl as string);
    own = serviceClient(served.server.grpcUrl as string, [REPOSITORY_PROTO_FILE], 'inference.GRPCRepositoryService');
  });
  after(async () => {
    triton.close();
    own.close();
    await served.close();
  });

  it('RepositoryIndex lists every version with its state, on both paths', async () => {
    const index = await triton.call('RepositoryIndex', {});
    const version = served.registry.get('m')?.version as string;
    assert.deepEqual(index, { models: [{ name: 'm', version, state: 'READY', reason: '' }] });
    assert.deepEqual(await own.call('RepositoryIndex', { ready: true }), index);
  });

  it('RepositoryModelUnload then RepositoryModelLoad (from the config, then with a config parameter)', async () => {
    assert.deepEqual(await triton.call('RepositoryModelUnload', { model_name: 'm', parameters: { unload_dependents: { bool_param: false } } }), {});
    const index = await triton.call<{ models: unknown[] }>('RepositoryIndex', {});
    assert.deepEqual(index.models, [{ name: 'm', version: '', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    assert.deepEqual(await triton.call('RepositoryIndex', { ready: true }), { models: [] });
    assert.deepEqual(await triton.call('RepositoryModelLoad', { model_name: 'm' }), {});
    assert.equal(await labelOf(served), 'a');
    assert.deepEqual(await own.call('RepositoryModelLoad', { model_name: 'm', parameters: config(entry('b')) }), {});
    assert.equal(await labelOf(served), 'b');
  });

  it('errors: a failed load is INVALID_ARGUMENT (the old build keeps serving), an unknown model NOT_FOUND, a bad parameter INVALID_ARGUMENT', async () => {
    await assertStatus(triton.call('RepositoryModelLoad', { model_name: 'm', parameters: config(entry('c', { fail_load: true })) }), status.INVALID_ARGUMENT, /model 'm' failed to load/, 'ModelLoadError');
    assert.equal(await labelOf(served), 'b');
    await assertStatus(triton.call('RepositoryModelUnload', { model_name: 'nope' }), status.NOT_FOUND, undefined, 'ModelNotFoundError');
    await assertStatus(triton.call('RepositoryModelLoad', { model_name: 'm', parameters: { config: { string_param: '{' } } }), status.INVALID_ARGUMENT, /the parameter config is not valid JSON/);
    await assertStatus(triton.call('RepositoryModelLoad', { model_name: 'm', parameters: { config: { bool_param: true } } }), status.INVALID_ARGUMENT, /must be a string_param/);
    await assertStatus(triton.call('RepositoryModelUnload', { model_name: 'm', parameters: { unload_dependents: { string_param: 'yes' } } }), status.INVALID_ARGUMENT, /must be a bool_param/);
  });
});

describe('gRPC repository calls, server.repository_api off', () => {
  it('are UNIMPLEMENTED on both paths, as an unknown method', async () => {
    const served = await serve(YAML(false));
    const triton = tritonPathClient(served.server.grpcUrl as string);
    const own = serviceClient(served.server.grpcUrl as string, [REPOSITORY_PROTO_FILE], 'inference.GRPCRepositoryService');
    try {
      await assertStatus(triton.call('RepositoryIndex', {}), status.UNIMPLEMENTED);
      await assertStatus(own.call('RepositoryModelUnload', { model_name: 'm' }), status.UNIMPLEMENTED);
      assert.equal(await labelOf(served), 'a');
    } finally {
      triton.close();
      own.close();
      await served.close();
    }
  });
});
