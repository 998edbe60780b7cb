/**
 * The error catalogue: every failure longshore reports is one of these classes, each with a stable `type` code.
 * `ERROR_STATUS` is the only place a type becomes an HTTP status.
 */

/** One precise problem inside an error, e.g. one failing field of a request body. */
export interface ErrorDetail {
  /** JSON pointer into the request body (`/petal_length`) or a config key path (`models[0].class_path`). */
  path: string;
  message: string;
}

/** Every error `type` longshore emits, with its HTTP status. Keep docs/errors.md in sync (a test checks it). */
export const ERROR_STATUS = {
  SchemaValidationError: 400,
  MalformedRequestError: 400,
  ModelLoadError: 400,
  UnsupportedModelError: 400,
  UnauthorizedError: 401,
  ForbiddenError: 403,
  RouteNotFoundError: 404,
  ModelNotFoundError: 404,
  RequestTimeoutError: 408,
  ModelInUseError: 409,
  PreconditionFailedError: 412,
  PayloadTooLargeError: 413,
  TooManyRecordsError: 413,
  TooManyElementsError: 413,
  UriTooLongError: 414,
  UnsupportedMediaTypeError: 415,
  RangeNotSatisfiableError: 416,
  ExpectationFailedError: 417,
  RateLimitedError: 429,
  HeadersTooLargeError: 431,
  InferenceError: 500,
  InternalError: 500,
  ConfigError: 500,
  ModelNotReadyError: 503,
  QueueFullError: 503,
  NotImplementedError: 501,
  DeadlineExceededError: 504,
  RequestCancelledError: 499,
} as const;

export type ErrorType = keyof typeof ERROR_STATUS;

/** Base class of the catalogue. Subclasses fix `type`; the status always comes from `ERROR_STATUS`. */
export abstract class LongshoreError extends Error {
  abstract readonly type: ErrorType;
  readonly details: ErrorDetail[];
  /** Seconds a client should wait before retrying; sent as `Retry-After` when set. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, options: { details?: ErrorDetail[]; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return ERROR_STATUS[this.type];
  }

  override get name(): string {
    return this.type;
  }
}

/** A request body (or a model's input record) does not match the model's input schema. */
export class SchemaValidationError extends LongshoreError {
  readonly type = 'SchemaValidationError';
}

/** The body could not be read as JSON (malformed, empty where a body is required). */
export class MalformedRequestError extends LongshoreError {
  readonly type = 'MalformedRequestError';
}

/** `auth:` is on and the request carries no key (`Authorization: Bearer`, `x-api-key`) or one the server does not know. */
export class UnauthorizedError extends LongshoreError {
  readonly type = 'UnauthorizedError';
}

/** `auth:` is on and the request's key is known but lacks the scope the route needs (`predict`, `read`, `metrics`). */
export class ForbiddenError extends LongshoreError {
  readonly type = 'ForbiddenError';
}

/** No route matches the method and URL. */
export class RouteNotFoundError extends LongshoreError {
  readonly type = 'RouteNotFoundError';
}

/** The URL names a model the server does not serve (or that has no endpoint for this operation). */
export class ModelNotFoundError extends LongshoreError {
  readonly type = 'ModelNotFoundError';
}

/**
 * The body names a served model that cannot answer the route: `/v1/embeddings` on a model that is not a pooled
 * feature-extraction model (a classifier, `pooling: none`, a code model).
 */
export class UnsupportedModelError extends LongshoreError {
  readonly type = 'UnsupportedModelError';
}

/** The body is larger than `server.body_limit_bytes`. */
export class PayloadTooLargeError extends LongshoreError {
  readonly type = 'PayloadTooLargeError';
}

/** A batch of records (POST /api/models/{name}/predictions) or of score examples has more than `limits.predict.max_records`. */
export class TooManyRecordsError extends LongshoreError {
  readonly type = 'TooManyRecordsError';
}

/** A V2 infer or explain request's inputs hold more elements, summed over their shapes, than `limits.predict.max_tensor_elements`. */
export class TooManyElementsError extends LongshoreError {
  readonly type = 'TooManyElementsError';
}

/** The client (its API key, or its IP without `auth:`) used up `limits.<group>.rate_limit.max` for this window; retry after `Retry-After` seconds. */
export class RateLimitedError extends LongshoreError {
  readonly type = 'RateLimitedError';
}

/** The request's headers (`server.headers_timeout_ms`) or its whole body (`server.request_timeout_ms`) did not arrive in time. */
export class RequestTimeoutError extends LongshoreError {
  readonly type = 'RequestTimeoutError';
}

/** A conditional request (`If-Match`, `If-Unmodified-Since`) for a static docs file whose condition does not hold. */
export class PreconditionFailedError extends LongshoreError {
  readonly type = 'PreconditionFailedError';
}

/** A path segment of the URL (e.g. a model name) is longer than the router accepts (100 characters). */
export class UriTooLongError extends LongshoreError {
  readonly type = 'UriTooLongError';
}

/** A `Range` header that no part of a static docs file satisfies. */
export class RangeNotSatisfiableError extends LongshoreError {
  readonly type = 'RangeNotSatisfiableError';
}

/** The request has an `Expect` header other than `100-continue`, the only expectation the server meets. */
export class ExpectationFailedError extends LongshoreError {
  readonly type = 'ExpectationFailedError';
}

/** The request line and headers together are larger than Node's limit (`--max-http-header-size`, 16 KiB by default). */
export class HeadersTooLargeError extends LongshoreError {
  readonly type = 'HeadersTooLargeError';
}

/** The request's Content-Type is not one the route accepts. */
export class UnsupportedMediaTypeError extends LongshoreError {
  readonly type = 'UnsupportedMediaTypeError';
}

/** The model threw, or returned output that fails its output schema. The message says what; the stack goes to the log only. */
export class InferenceError extends LongshoreError {
  readonly type = 'InferenceError';
}

/** A bug or unexpected failure outside any model. */
export class InternalError extends LongshoreError {
  readonly type = 'InternalError';
}

/** The configuration is invalid; `details` holds one entry per problem with its file, key path and line. */
export class ConfigError extends LongshoreError {
  readonly type = 'ConfigError';
}

/**
 * A repository load failed: the model's entry is wrong, or a version failed to load or self-test. Nothing was switched:
 * what served the model before still does (Triton answers a failed load with 400 too).
 */
export class ModelLoadError extends LongshoreError {
  readonly type = 'ModelLoadError';
}

/** A repository unload of a model that a served graph calls (unload the graph first, or pass unload_dependents). */
export class ModelInUseError extends LongshoreError {
  readonly type = 'ModelInUseError';
}

/** The model exists but is still loading (with `Retry-After`), failed to load, or is unloading. */
export class ModelNotReadyError extends LongshoreError {
  readonly type = 'ModelNotReadyError';
}

/** The model's queue already holds `batching.max_queue_size` rows; retry after `Retry-After` seconds. */
export class QueueFullError extends LongshoreError {
  readonly type = 'QueueFullError';
}

/** The request's deadline (the model's `timeout_ms`, or the client's own) passed while it was queued or running. */
export class DeadlineExceededError extends LongshoreError {
  readonly type = 'DeadlineExceededError';
}

/** The client closed the connection while its request waited in a queue; the request was dropped (nginx's 499). */
export class RequestCancelledError extends LongshoreError {
  readonly type = 'RequestCancelledError';
}

/** The model does not implement the operation asked for (e.g. explain). */
export class NotImplementedError extends LongshoreError {
  readonly type = 'NotImplementedError';
}

/**
 * A client's value as it may appear in a message: JSON-like text cut at `depth` levels of nesting (`[…]`, `{…}`) and at
 * `length` characters (then `…`). Never recurses deeper than `depth`, and never reads more of a value than it writes,
 * so a value nested 10,000 deep or megabytes long cannot turn a 400 into a 500 (issue 14).
 */
export function quote(value: unknown, depth = 3, length = 100): string {
  const text = render(value, depth, length + 1);
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

function render(value: unknown, depth: number, budget: number): string {
  if (typeof value === 'string') return JSON.stringify(value.length > budget ? value.slice(0, budget) : value);
  if (typeof value !== 'object' || value === null) return typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? String(value));
  const array = Array.isArray(value);
  const keys = array ? undefined : Object.keys(value);
  const size = array ? (value as unknown[]).length : (keys as string[]).length;
  const [open, close] = array ? ['[', ']'] : ['{', '}'];
  if (size === 0) return `${open}${close}`;
  if (depth <= 0) return `${open}…${close}`;
  let out = open;
  for (let i = 0; i < size && out.length <= budget; i++) {
    if (i > 0) out += ',';
    const key = keys?.[i] as string;
    if (!array) out += `${JSON.stringify(key.length > budget ? key.slice(0, budget) : key)}:`;
    out += render(array ? (value as unknown[])[i] : (value as Record<string, unknown>)[key], depth - 1, Math.max(budget - out.length, 0));
  }
  return out + close;
}

/** A problem with one key of a model entry; the registry turns it into `file:line models[i].key: message`. */
export class EntryProblem extends Error {
  constructor(
    /** A key of the entry, or a path below it (`['decorators', 1, 'class_path']`). */
    readonly key: string | readonly (string | number)[],
    message: string,
  ) {
    super(message);
  }
}
