/** The one error a client call throws: an HTTP error answer, no answer at all, or an answer that cannot be decoded. */
import type { ErrorDetail } from '../errors.js';

export interface LongshoreClientErrorInit {
  /** HTTP status, or 0 when no answer came (network failure, timeout). */
  readonly status: number;
  readonly method: string;
  readonly url: string;
  /** The server's `x-request-id` (the id its log lines carry), when there was an answer. */
  readonly requestId?: string;
  /** REST error code (`ModelNotFoundError`, ...); V2 errors have none. */
  readonly type?: string;
  readonly details?: readonly ErrorDetail[];
  readonly cause?: unknown;
}

/**
 * A failed call. `message` is the server's own message (`error` of a V2 body; `message` of a REST body, with `type` and
 * `details`) or, without one, says what went wrong on the way.
 */
export class LongshoreClientError extends Error {
  override readonly name = 'LongshoreClientError';
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly requestId: string | undefined;
  readonly type: string | undefined;
  readonly details: readonly ErrorDetail[];

  constructor(message: string, init: LongshoreClientErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.method = init.method;
    this.url = init.url;
    this.requestId = init.requestId;
    this.type = init.type;
    this.details = init.details ?? [];
  }
}

/** Reads the server's message, type and details out of an error body (V2 `{error}`, REST `{type, message, details}`). */
export function parseErrorBody(text: string): { message?: string; type?: string; details?: ErrorDetail[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof body !== 'object' || body === null) return {};
  const { error, message, type, details } = body as { error?: unknown; message?: unknown; type?: unknown; details?: unknown };
  if (typeof error === 'string') return { message: error };
  return {
    ...(typeof message === 'string' ? { message } : {}),
    ...(typeof type === 'string' ? { type } : {}),
    ...(Array.isArray(details) ? { details: details as ErrorDetail[] } : {}),
  };
}
