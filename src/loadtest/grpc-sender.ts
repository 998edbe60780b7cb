/**
 * `longshore bench --protocol grpc`: requests sent as Open Inference Protocol ModelInfer calls through the published
 * client's gRPC transport (longshore/client, one HTTP/2 channel shared by the concurrent loops, as gRPC clients do),
 * answered in the load generator's terms: a status (200, or the HTTP status the client maps the gRPC code to) and no
 * Server-Timing (gRPC answers carry no headers the generator reads, so the breakdown comes from /metrics).
 */
import { LongshoreClient, LongshoreClientError } from '../client/index.js';
import type { InferRequest } from '../client/index.js';
import type { Answer } from './load.js';

export class GrpcSender {
  readonly #client: LongshoreClient;

  constructor(base: URL, address: string) {
    this.#client = new LongshoreClient(base.href, { grpc: address, timeoutMs: 10_000 });
  }

  /** One ModelInfer of `request` (a V2 JSON request body) to `name`, as a load generator answer. */
  sender(name: string, body: Buffer): () => Promise<Answer> {
    const request = JSON.parse(body.toString('utf8')) as InferRequest;
    return async () => {
      try {
        await this.#client.infer(name, request);
        return { status: 200, serverTiming: undefined, text: '' };
      } catch (error) {
        if (error instanceof LongshoreClientError && error.status > 0) return { status: error.status, serverTiming: undefined, text: error.message };
        throw error;
      }
    };
  }

  close(): void {
    this.#client.close();
  }
}
