/**
 * The gRPC server of the Open Inference Protocol: loads the protos with proto-loader and serves, with grpc-js on
 * server.grpc_port, inference.GRPCInferenceService (service.ts), grpc.health.v1.Health (health.ts), the repository
 * calls when server.repository_api is on (repository.ts) and server reflection over all of them; API keys (auth.ts)
 * when `auth:` is set and the grpc_server_* metrics (metrics.ts) in every call's path; stops within a bound. server.ts
 * imports this module with a dynamic import() only when server.grpc_port is set, so grpc-js is never loaded otherwise.
 */
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, Server, ServerCredentials, type ServerInterceptor, type ServiceDefinition } from '@grpc/grpc-js';
import { load } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as HEALTH_PROTO_FILE } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ResolvedAuth } from '../config/schema.js';
import type { Dataplane } from '../dataplane/dataplane.js';
import { authInterceptor } from './auth.js';
import { healthService } from './health.js';
import { grpcCallMetrics } from './metrics.js';
import { REPOSITORY_SERVICE, repositoryService, underInferencePaths } from './repository.js';
import type { Tracing } from '../tracing/span.js';
import { inferenceService } from './service.js';
import { messageSizeInterceptor } from './status.js';

/** The proto, from src/grpc/ and dist/grpc/ alike (package.json `files` ships proto/). */
export const PROTO_FILE = fileURLToPath(new URL('../../proto/open_inference_grpc.proto', import.meta.url));
/** The repository calls' proto (Triton's messages), beside it. */
export const REPOSITORY_PROTO_FILE = fileURLToPath(new URL('../../proto/model_repository.proto', import.meta.url));
export { HEALTH_PROTO_FILE };

/** How proto-loader maps messages: field names as in the proto, 64-bit integers as strings (no precision lost). */
export const PROTO_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

export interface GrpcOptions {
  readonly dataplane: Dataplane;
  readonly logger: Logger;
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  readonly maxTensorElements: number;
  /** `auth:` with its keys: every call then needs a key with its method's scope (auth.ts). */
  readonly auth?: ResolvedAuth | undefined;
  /** The service's metrics registry: the grpc_server_* metrics are registered in it. */
  readonly metrics?: Registry;
  /** `tls:`'s files: the port then speaks TLS too (no client certificates asked for). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly ca?: Buffer };
  /** The tracer (tracing.enabled): ModelInfer calls get a SERVER span continuing the caller's `traceparent`. */
  readonly tracing?: Tracing;
}

export interface GrpcServer {
  /** `host:port` actually bound. */
  readonly url: string;
  /** Stops taking calls, lets calls in flight finish for up to `timeoutMs` (0: however long), then cuts the rest. */
  close(timeoutMs: number): Promise<void>;
}

type Services = Record<string, { service: ServiceDefinition } | undefined>;

export async function startGrpcServer(options: GrpcOptions): Promise<GrpcServer> {
  const { dataplane, logger } = options;
  const repositoryApi = dataplane.repositoryApi;
  const files = [PROTO_FILE, HEALTH_PROTO_FILE, ...(repositoryApi ? [REPOSITORY_PROTO_FILE] : [])];
  const packageDefinition = await load(files, PROTO_OPTIONS);
  const definition = loadPackageDefinition(packageDefinition) as unknown as { inference: Services; grpc: { health: { v1: Services } } };
  const serviceOf = (services: Services, name: string) => (services[name] as { service: ServiceDefinition }).service;
  const interceptors: ServerInterceptor[] = [messageSizeInterceptor(options.maxMessageBytes, options.metrics && grpcCallMetrics(options.metrics))];
  if (options.auth) interceptors.push(authInterceptor(options.auth));
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    interceptors,
  });
  server.addService(serviceOf(definition.inference, 'GRPCInferenceService'), inferenceService(options));
  const health = healthService(dataplane, logger);
  server.addService(serviceOf(definition.grpc.health.v1, 'Health'), health.implementation);
  const reflected = ['inference.GRPCInferenceService', 'grpc.health.v1.Health'];
  if (repositoryApi) {
    const repository = serviceOf(definition.inference, 'GRPCRepositoryService');
    const handlers = repositoryService(dataplane, logger);
    server.addService(repository, handlers);
    server.addService(underInferencePaths(repository), handlers);
    reflected.push(REPOSITORY_SERVICE);
  }
  new ReflectionService(packageDefinition, { services: reflected }).addToServer(server);
  const { tls } = options;
  const credentials = tls ? ServerCredentials.createSsl(tls.ca ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], false) : ServerCredentials.createInsecure();
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  let closing: Promise<void> | undefined;
  const close = (timeoutMs: number) =>
    (closing ??= new Promise<void>((resolve) => {
      // Watch streams never end by themselves: they end now, NOT_SERVING, so the shutdown does not wait for them.
      health.stop();
      const timer = timeoutMs > 0 ? setTimeout(() => {
        logger.warn({ timeout_ms: timeoutMs }, 'gRPC calls still in flight at server.shutdown_timeout_ms: cancelling them');
        server.forceShutdown();
        resolve();
      }, timeoutMs) : undefined;
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }));
  return { url: `${host}:${port}`, close };
}
