/**
 * Per-request settings for a model call, from the HTTP request: the client's deadline (`x-request-timeout-ms`) and a
 * signal that aborts when the client goes away before its answer is sent.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Cancellation, type CallContext } from '../call-context.js';
import { SchemaValidationError } from '../errors.js';
import type { CallTiming } from '../tracing/timing.js';
import { isWarmupRequest } from './route-warmup.js';

export const TIMEOUT_HEADER = 'x-request-timeout-ms';

/**
 * Builds the call options; `bodyTimeoutMs` is a deadline the body carried (V2 `parameters.timeout`), the shorter wins;
 * `timing`: the request's timing when it is timed (http/timing.ts).
 */
export function callOptions(request: FastifyRequest, reply: FastifyReply, bodyTimeoutMs?: number, timing?: CallTiming): CallContext {
  const headerTimeout = parseTimeoutHeader(request.headers[TIMEOUT_HEADER]);
  const timeoutMs = headerTimeout === undefined ? bodyTimeoutMs : bodyTimeoutMs === undefined ? headerTimeout : Math.min(headerTimeout, bodyTimeoutMs);
  const cancellation = new Cancellation();
  const response = reply.raw;
  // 'close' comes once per response (also after one sent in full; only a close before the end means the client left),
  // so `on` suffices: `once` would wrap the listener and remove it, both per request.
  response.on('close', () => {
    if (!response.writableEnded) cancellation.cancel();
  });
  if (response.destroyed) cancellation.cancel(); // gone before the handler ran: 'close' has already fired
  return {
    timeoutMs,
    signal: cancellation,
    requestId: request.id,
    headers: request.headers,
    span: request.longshoreSpan ?? undefined,
    timing,
    warmup: isWarmupRequest(request.id),
  };
}

function parseTimeoutHeader(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  const ms = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(ms) || ms <= 0) {
    throw new SchemaValidationError(`header ${TIMEOUT_HEADER} must be a positive number of milliseconds, got ${JSON.stringify(text)}`, {
      details: [{ path: `headers/${TIMEOUT_HEADER}`, message: 'must be a positive number of milliseconds' }],
    });
  }
  return ms;
}
