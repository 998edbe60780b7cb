/**
 * The client's gRPC transport (`new LongshoreClient(url, { grpc: 'host:port' })`): the Open Inference Protocol calls go
 * to `inference.GRPCInferenceService` instead of `/v2`. @grpc/grpc-js and the proto are loaded on the first call, so a
 * client that never uses gRPC never loads them. A failed call throws LongshoreClientError with the HTTP status that
 * matches the gRPC code (NOT_FOUND → 404, ...), and `type` set to the gRPC code's name.
 */
import { fileURLToPath } from 'node:url';
import type { ChannelCredentials, Client, Metadata, ServiceError } from '@grpc/grpc-js';
import { LongshoreClientError } from './errors.js';

/** Where the proto is, in the repository and in the installed package alike (`proto/` beside `src/` or `dist/`). */
const PROTO_FILE = fileURLToPath(new URL('../../proto/open_inference_grpc.proto', import.meta.url));

/** The HTTP status each gRPC code stands for (the server maps its errors the other way: docs/grpc.md). */
const STATUS_OF_CODE: Record<number, { status: number; name: string }> = {
  1: { status: 499, name: 'CANCELLED' },
  3: { status: 400, name: 'INVALID_ARGUMENT' },
  4: { status: 504, name: 'DEADLINE_EXCEEDED' },
  5: { status: 404, name: 'NOT_FOUND' },
  7: { status: 403, name: 'PERMISSION_DENIED' },
  8: { status: 413, name: 'RESOURCE_EXHAUSTED' },
  12: { status: 501, name: 'UNIMPLEMENTED' },
  13: { status: 500, name: 'INTERNAL' },
  14: { status: 503, name: 'UNAVAILABLE' },
  16: { status: 401, name: 'UNAUTHENTICATED' },
};

export interface GrpcTransportOptions {
  /** Per call: the gRPC deadline. */
  readonly timeoutMs?: number;
  /** Sent as `authorization: Bearer <apiKey>` metadata. */
  readonly apiKey?: string;
  /** Sent as metadata with every call (lower-case keys). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Channel credentials (default: insecure, for a server without `tls:`). */
  readonly credentials?: ChannelCredentials;
  /** Largest message received or sent (default 256 MiB, the server's default). */
  readonly maxMessageBytes?: number;
}

type Unary = (request: unknown, metadata: Metadata, options: { deadline?: Date }, callback: (error: ServiceError | null, response: unknown) => void) => void;

export class GrpcTransport {
  readonly address: string;
  readonly #options: GrpcTransportOptions;
  #stub: Promise<{ client: Client; metadata: Metadata }> | undefined;

  constructor(address: string, options: GrpcTransportOptions = {}) {
    this.address = address;
    this.#options = options;
  }

  /** Calls `method` of GRPCInferenceService with `request` (a plain object of its message). */
  async call<T>(method: string, request: unknown): Promise<T> {
    const { client, metadata } = await (this.#stub ??= this.#connect());
    const unary = (client as unknown as Record<string, Unary>)[method];
    if (typeof unary !== 'function') throw new TypeError(`GRPCInferenceService has no method ${method}`);
    const deadline = this.#options.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + this.#options.timeoutMs) };
    return new Promise<T>((resolve, reject) => {
      unary.call(client, request, metadata.clone(), deadline, (error, response) => {
        if (error) reject(this.#failure(method, error));
        else resolve(response as T);
      });
    });
  }

  /** Closes the channel. */
  close(): void {
    void this.#stub?.then(({ client }) => client.close());
    this.#stub = undefined;
  }

  async #connect(): Promise<{ client: Client; metadata: Metadata }> {
    const [grpc, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
    const definition = await loader.load(PROTO_FILE, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const inference = grpc.loadPackageDefinition(definition).inference as Record<string, typeof Client>;
    const Service = inference.GRPCInferenceService as unknown as new (address: string, credentials: ChannelCredentials, options: object) => Client;
    const limit = this.#options.maxMessageBytes ?? 256 * 1024 * 1024;
    const client = new Service(this.address, this.#options.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': limit,
      'grpc.max_send_message_length': limit,
    });
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(this.#options.headers ?? {})) metadata.set(key.toLowerCase(), value);
    if (this.#options.apiKey !== undefined && !metadata.get('authorization').length) metadata.set('authorization', `Bearer ${this.#options.apiKey}`);
    return { client, metadata };
  }

  #failure(method: string, error: ServiceError): LongshoreClientError {
    const known = STATUS_OF_CODE[error.code];
    // grpc-js prefixes the server's message with "<code> <NAME>: "; the server's own message is the `details`.
    const message = error.details || error.message;
    return new LongshoreClientError(message, {
      status: known?.status ?? (error.code === 2 ? 500 : 0),
      method: 'gRPC',
      url: `${this.address}/inference.GRPCInferenceService/${method}`,
      type: known?.name ?? `grpc code ${error.code}`,
      cause: error,
    });
  }
}
