/**
 * API keys on the gRPC port (auth: on): every method against every scope through a real grpc-js client — no key and an
 * unknown key UNAUTHENTICATED, a key without the scope PERMISSION_DENIED, the right scope let in (Bearer or x-api-key);
 * the health calls open while auth.open_health is true and `read` when it is false; keys never in the log; the typed
 * client's gRPC transport sends its apiKey.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LongshoreClient, LongshoreClientError } from '../../src/client/index.ts';
import { HEALTH_PROTO_FILE, REPOSITORY_PROTO_FILE } from '../../src/grpc/server.ts';
import { FIXTURES, serve, type Served } from '../batching-http/http-harness.ts';
import { captureLogger, fixture, REPO_ROOT, type LogLine } from '../helpers/service.ts';
import { assertStatus, inferClient, serviceClient, status, tritonPathClient, type InferClient, type ServiceClient } from './grpc-helpers.ts';

const KEYS = { predict: 'g-predict-0123456789abcdef', read: 'g-read-0123456789abcdef', metrics: 'g-metrics-0123456789abcdef', admin: 'g-admin-0123456789abcdef' };
type Scope = keyof typeof KEYS;
const SCOPES = Object.keys(KEYS) as Scope[];
const ENV = Object.fromEntries(SCOPES.map((scope) => [scope, `LONGSHORE_TEST_GRPC_${scope.toUpperCase()}_KEY`])) as Record<Scope, string>;
const REFLECTION_PROTO = `${REPO_ROOT}/node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto`;
const INFER = { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [5.1, 3.5, 1.4, 0.2] } }] };

function yaml(openHealth: boolean): string {
  const keys = SCOPES.map((scope) => `    - env: ${ENV[scope]}\n      scopes: [${scope}]\n`).join('');
  return (
    `server:\n  grpc_port: 0\n  repository_api: true\nauth:\n  open_health: ${openHealth}\n  keys:\n${keys}` +
    `models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n    qualified_name: iris\n  - class_path: ${fixture('echo.ts', 'EchoModel')}\n`
  );
}

interface Clients {
  infer: InferClient;
  health: ServiceClient;
  repository: ServiceClient;
  reflection: ServiceClient;
  close(): void;
}

function clients(url: string): Clients {
  const made = {
    infer: inferClient(url),
    health: serviceClient(url, [HEALTH_PROTO_FILE], 'grpc.health.v1.Health'),
    repository: serviceClient(url, [REPOSITORY_PROTO_FILE], 'inference.GRPCRepositoryService'),
    reflection: serviceClient(url, [REFLECTION_PROTO], 'grpc.reflection.v1.ServerReflection'),
  };
  return { ...made, close: () => Object.values(made).forEach((client) => client.close()) };
}

/** Every method, how to call it with `metadata`, and the scope it needs (undefined: open). */
function methods(c: Clients, healthScope: Scope | undefined): { name: string; scope: Scope | undefined; call(metadata?: Record<string, string>): Promise<unknown> }[] {
  const infer = (method: string, request: object = {}) => (metadata?: Record<string, string>) => c.infer.call(method, request, metadata === undefined ? {} : { metadata });
  return [
    { name: 'ServerLive', scope: healthScope, call: infer('ServerLive') },
    { name: 'ServerReady', scope: healthScope, call: infer('ServerReady') },
    { name: 'grpc.health.v1.Health/Check', scope: healthScope, call: (metadata) => c.health.call('Check', { service: '' }, metadata) },
    { name: 'ModelReady', scope: 'read', call: infer('ModelReady', { name: 'iris' }) },
    { name: 'ServerMetadata', scope: 'read', call: infer('ServerMetadata') },
    { name: 'ModelMetadata', scope: 'read', call: infer('ModelMetadata', { name: 'iris' }) },
    { name: 'ModelInfer', scope: 'predict', call: infer('ModelInfer', INFER) },
    { name: 'ServerReflectionInfo', scope: 'read', call: (metadata) => c.reflection.bidi('ServerReflectionInfo', [{ list_services: '' }], metadata) },
    { name: 'RepositoryIndex', scope: 'admin', call: (metadata) => c.repository.call('RepositoryIndex', {}, metadata) },
  ];
}

const bearer = (scope: Scope) => ({ authorization: `Bearer ${KEYS[scope]}` });

describe('gRPC with auth on', () => {
  let served: Served;
  let c: Clients;
  let logged: LogLine[] = [];
  before(async () => {
    for (const scope of SCOPES) process.env[ENV[scope]] = KEYS[scope];
    const { logger, lines } = captureLogger('debug');
    logged = lines;
    served = await serve(yaml(true), {}, logger);
    c = clients(served.server.grpcUrl as string);
  });
  after(async () => {
    c.close();
    await served.close();
    for (const scope of SCOPES) delete process.env[ENV[scope]];
  });

  it('every method: UNAUTHENTICATED without a key or with an unknown one, PERMISSION_DENIED without its scope, OK with it', async () => {
    for (const method of methods(c, undefined)) {
      if (method.scope === undefined) {
        await method.call();
        continue;
      }
      await assertStatus(method.call(), status.UNAUTHENTICATED, /needs an API key: send the metadata authorization: Bearer <key> or x-api-key/, 'UnauthorizedError');
      await assertStatus(method.call({ authorization: 'Bearer not-a-key' }), status.UNAUTHENTICATED, /^the API key is not valid$/);
      await assertStatus(method.call({ authorization: 'Basic abc' }), status.UNAUTHENTICATED);
      for (const other of SCOPES.filter((scope) => scope !== method.scope)) {
        await assertStatus(method.call(bearer(other)), status.PERMISSION_DENIED, new RegExp(`lacks the scope '${method.scope}' this RPC needs`), 'ForbiddenError');
      }
      await method.call(bearer(method.scope));
      await method.call({ 'x-api-key': KEYS[method.scope] });
      await method.call({ authorization: `bEaReR ${KEYS[method.scope]}` });
    }
  });

  it('the repository calls need admin on the paths Triton\'s clients call too', async () => {
    const triton = tritonPathClient(served.server.grpcUrl as string);
    try {
      await assertStatus(triton.call('RepositoryIndex', {}), status.UNAUTHENTICATED);
      await assertStatus(triton.call('RepositoryModelUnload', { model_name: 'echo' }, bearer('predict')), status.PERMISSION_DENIED, /lacks the scope 'admin'/);
      // The refused call never reached its handler.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(served.registry.get('echo')?.state, 'ready');
      assert.ok(((await triton.call<{ models: unknown[] }>('RepositoryIndex', {}, bearer('admin'))).models).length > 0);
    } finally {
      triton.close();
    }
  });

  it('the typed client over gRPC sends its apiKey as authorization: Bearer', async () => {
    const url = served.server.url;
    const grpc = new LongshoreClient(url, { grpc: served.server.grpcUrl as string, apiKey: KEYS.predict, timeoutMs: 10_000 });
    const anonymous = new LongshoreClient(url, { grpc: served.server.grpcUrl as string, timeoutMs: 10_000 });
    try {
      const answer = await grpc.infer('iris', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2]) }] });
      assert.equal(answer.model_name, 'iris');
      await assert.rejects(grpc.modelMetadata('iris'), (error: unknown) => error instanceof LongshoreClientError && /lacks the scope 'read'/.test(error.message));
      await assert.rejects(anonymous.modelMetadata('iris'), (error: unknown) => error instanceof LongshoreClientError && /needs an API key/.test(error.message));
    } finally {
      grpc.close();
      anonymous.close();
    }
  });

  it('no key reaches the log', () => {
    const text = JSON.stringify(logged);
    assert.ok(logged.length > 0);
    for (const key of Object.values(KEYS)) assert.ok(!text.includes(key), 'a key is in the log');
    assert.ok(!text.includes('not-a-key'));
  });
});

describe('gRPC with auth on and open_health: false', () => {
  it('the health calls need read', async () => {
    for (const scope of SCOPES) process.env[ENV[scope]] = KEYS[scope];
    const served = await serve(yaml(false));
    const c = clients(served.server.grpcUrl as string);
    try {
      for (const method of methods(c, 'read').filter((m) => ['ServerLive', 'ServerReady', 'grpc.health.v1.Health/Check'].includes(m.name))) {
        await assertStatus(method.call(), status.UNAUTHENTICATED);
        await assertStatus(method.call(bearer('predict')), status.PERMISSION_DENIED, /lacks the scope 'read'/);
        await method.call(bearer('read'));
      }
    } finally {
      c.close();
      await served.close();
      for (const scope of SCOPES) delete process.env[ENV[scope]];
    }
  });
});
