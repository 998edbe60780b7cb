/**
 * The gRPC server of the Open Inference Protocol: loads proto/open_inference_grpc.proto with proto-loader, serves
 * inference.GRPCInferenceService (service.ts) with grpc-js on server.grpc_port, and stops within a bound. server.ts
 * imports this module with a dynamic import() only when server.grpc_port is set, so grpc-js is never loaded otherwise.
 */
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { load } from '@grpc/proto-loader';
import type { Logger } from 'pino';
import type { Dataplane } from '../dataplane/dataplane.js';
import { inferenceService } from './service.js';
import { messageSizeInterceptor } from './status.js';

/** The proto, from src/grpc/ and dist/grpc/ alike (package.json `files` ships proto/). */
export const PROTO_FILE = fileURLToPath(new URL('../../proto/open_inference_grpc.proto', import.meta.url));

/** How proto-loader maps messages: field names as in the proto, 64-bit integers as strings (no precision lost). */
export const PROTO_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

export interface GrpcOptions {
  readonly dataplane: Dataplane;
  readonly logger: Logger;
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  readonly maxTensorElements: number;
  /** `tls:`'s files: the port then speaks TLS too (no client certificates asked for). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly ca?: Buffer };
}

export interface GrpcServer {
  /** `host:port` actually bound. */
  readonly url: string;
  /** Stops taking calls, lets calls in flight finish for up to `timeoutMs` (0: however long), then cuts the rest. */
  close(timeoutMs: number): Promise<void>;
}

export async function startGrpcServer(options: GrpcOptions): Promise<GrpcServer> {
  const definition = loadPackageDefinition(await load(PROTO_FILE, PROTO_OPTIONS));
  const service = (definition.inference as unknown as { GRPCInferenceService: { service: ServiceDefinition } }).GRPCInferenceService.service;
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    interceptors: [messageSizeInterceptor(options.maxMessageBytes)],
  });
  server.addService(service, inferenceService(options));
  const { tls } = options;
  const credentials = tls ? ServerCredentials.createSsl(tls.ca ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], false) : ServerCredentials.createInsecure();
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  let closing: Promise<void> | undefined;
  const close = (timeoutMs: number) =>
    (closing ??= new Promise<void>((resolve) => {
      const timer = timeoutMs > 0 ? setTimeout(() => {
        options.logger.warn({ timeout_ms: timeoutMs }, 'gRPC calls still in flight at server.shutdown_timeout_ms: cancelling them');
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
