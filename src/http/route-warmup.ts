/**
 * The server's HTTP warmup at start (docs/self-tests.md#warmup): a model's self-tests warm the model and its call path,
 * but not the HTTP layer they never pass through (the route, the body parser, the handler, the serializer: V8 compiles
 * them on first use, which made the first request about 3× the tenth). Before the server reports ready, each model with
 * an example gets one POST of it to its /prediction route, over loopback to the server's own address (injected with
 * TLS on). Those requests are marked
 * by a request id made for them and known only here: they count in no HTTP metric, access log line, model metric or
 * prediction log (call-options.ts sets `warmup` on their calls).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

const WARM_REQUEST_IDS = new Set<string>();

/** Whether the request is one of the warmup's own (cheap when none is in flight: the set is empty). */
export function isWarmupRequest(requestId: string): boolean {
  return WARM_REQUEST_IDS.size !== 0 && WARM_REQUEST_IDS.has(requestId);
}

/** A model to warm: its name and an input its /prediction route takes. */
export interface RouteWarmup {
  readonly name: string;
  readonly input: unknown;
}

/**
 * Sends each model's input to its /prediction route once, in turn; a refusal is logged at debug and skipped. With
 * `url` (the server's own plain-HTTP address) over loopback, so the socket and body-reading path warms too; else
 * injected.
 */
export async function warmRoutes(app: FastifyInstance, models: readonly RouteWarmup[], logger: Logger, url?: string): Promise<void> {
  for (const model of models) {
    const id = `longshore-warmup-${randomUUID()}`;
    WARM_REQUEST_IDS.add(id);
    try {
      const path = `/api/models/${encodeURIComponent(model.name)}/prediction`;
      const headers = { 'content-type': 'application/json', 'x-request-id': id };
      const payload = JSON.stringify(model.input);
      const status = url === undefined ? (await app.inject({ method: 'POST', url: path, headers, payload })).statusCode : await post(new URL(path, url), headers, payload);
      if (status >= 300) logger.debug({ model: model.name, status }, 'route warmup: the example was not answered 2xx');
    } catch (error) {
      logger.debug({ model: model.name, err: error }, 'route warmup failed');
    } finally {
      WARM_REQUEST_IDS.delete(id);
    }
  }
}

/** One POST over a connection of its own (closed after it); resolves with the status. */
function post(url: URL, headers: Record<string, string>, payload: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { ...headers, connection: 'close' }, timeout: 10_000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', reject);
    request.end(payload);
  });
}
