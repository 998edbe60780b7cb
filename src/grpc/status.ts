/**
 * The one table from longshore's error catalogue to gRPC status codes (docs/grpc.md#errors), the one wrapper every RPC
 * handler goes through (`unary`: errors become statuses, failures are logged), and the interceptor that makes grpc-js's
 * own message-size refusals name `server.grpc_max_message_bytes` (and reports how each call ended, for the metrics).
 * API keys are an interceptor of their own (auth.ts).
 */
import { Metadata, ServerInterceptingCall, status, type ServerInterceptor, type ServerMethodDefinition, type ServerUnaryCall, type sendUnaryData, type StatusObject } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { InternalError, LongshoreError, type ErrorType } from '../errors.js';

/** Every catalogue type → its gRPC status (the REST status's meaning, as Triton maps them). */
export const ERROR_GRPC_STATUS: Readonly<Record<ErrorType, status>> = {
  SchemaValidationError: status.INVALID_ARGUMENT,
  MalformedRequestError: status.INVALID_ARGUMENT,
  ModelLoadError: status.INVALID_ARGUMENT,
  UnsupportedModelError: status.INVALID_ARGUMENT, // never sent: only /v1/embeddings raises it
  UnauthorizedError: status.UNAUTHENTICATED,
  ForbiddenError: status.PERMISSION_DENIED,
  RouteNotFoundError: status.UNIMPLEMENTED,
  ModelNotFoundError: status.NOT_FOUND,
  RequestTimeoutError: status.DEADLINE_EXCEEDED,
  ModelInUseError: status.FAILED_PRECONDITION,
  PreconditionFailedError: status.FAILED_PRECONDITION,
  PayloadTooLargeError: status.RESOURCE_EXHAUSTED,
  TooManyRecordsError: status.RESOURCE_EXHAUSTED,
  TooManyElementsError: status.RESOURCE_EXHAUSTED,
  UriTooLongError: status.INVALID_ARGUMENT,
  UnsupportedMediaTypeError: status.INVALID_ARGUMENT,
  RangeNotSatisfiableError: status.OUT_OF_RANGE,
  ExpectationFailedError: status.FAILED_PRECONDITION,
  RateLimitedError: status.RESOURCE_EXHAUSTED,
  HeadersTooLargeError: status.RESOURCE_EXHAUSTED,
  InferenceError: status.INTERNAL,
  InternalError: status.INTERNAL,
  ConfigError: status.INTERNAL,
  ModelNotReadyError: status.UNAVAILABLE,
  QueueFullError: status.UNAVAILABLE,
  NotImplementedError: status.UNIMPLEMENTED,
  DeadlineExceededError: status.DEADLINE_EXCEEDED,
  RequestCancelledError: status.CANCELLED,
};

/** Trailing metadata key carrying the catalogue type of an error (docs/errors.md), for clients that branch on it. */
export const ERROR_TYPE_KEY = 'longshore-error-type';

/** A gRPC status for anything thrown: catalogue errors keep their message; anything else is INTERNAL, message not leaked. */
export function toStatus(thrown: unknown): { error: LongshoreError; status: Partial<StatusObject> } {
  const error = thrown instanceof LongshoreError ? thrown : new InternalError('internal server error; the server log has details', { cause: thrown });
  const metadata = new Metadata();
  metadata.set(ERROR_TYPE_KEY, error.type);
  if (error.retryAfterSeconds !== undefined) metadata.set('retry-after', String(error.retryAfterSeconds));
  return { error, status: { code: ERROR_GRPC_STATUS[error.type], details: error.message, metadata } };
}

/** A unary RPC's body: the request in, the response out (or a throw). */
export type UnaryBody<Req, Res> = (call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>;

/**
 * The one wrapper of every RPC handler: runs `body`, answers its result, or turns what it threw into a status. Failures
 * (INTERNAL) are logged with the original error, as REST logs its 500s; expected states and client errors are not.
 */
export function unary<Req, Res>(method: string, logger: Logger, body: UnaryBody<Req, Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    let result: Res | Promise<Res>;
    try {
      result = body(call);
    } catch (thrown) {
      fail(method, logger, thrown, callback);
      return;
    }
    if (result instanceof Promise) result.then((value) => callback(null, value), (thrown: unknown) => fail(method, logger, thrown, callback));
    else callback(null, result);
  };
}

function fail<Res>(method: string, logger: Logger, thrown: unknown, callback: sendUnaryData<Res>): void {
  const { error, status: answer } = toStatus(thrown);
  if (answer.code === status.INTERNAL) {
    logger.error({ grpc_method: method, error_type: error.type, err: error.cause ?? error }, error.message);
  }
  callback(answer, null);
}

/** grpc-js's own messages when a message passes its size limits (server-interceptors.js, stream-decoder.js). */
const SIZE_MESSAGES = /^(Received message larger than max|Received message that decompresses to a size larger than|Sent message larger than max)/;

/** The message a client sees when a message passes `server.grpc_max_message_bytes`. */
export function sizeMessage(original: string, maxBytes: number): string {
  const direction = original.startsWith('Sent') ? 'response' : 'request';
  return `the ${direction} message is larger than ${maxBytes} bytes (server.grpc_max_message_bytes): ${original}`;
}

/** Told when a call starts; returns what to call once with the status code it ends with (metrics.ts). */
export type CallObserver = (method: ServerMethodDefinition<unknown, unknown>) => (code: status) => void;

/**
 * The first interceptor: rewrites grpc-js's RESOURCE_EXHAUSTED for an oversized message so it names the setting, and
 * tells `observe` (the grpc_server_* metrics, when given) how each call ended. grpc-js answers size refusals and passed
 * deadlines from the innermost call object (the one this first interceptor is handed) without passing through
 * interceptors, so the interceptor wraps that object's own sendStatus; a grpc-js without it leaves its message
 * unchanged (test/grpc checks). A call its client cancels ends CANCELLED whatever its handler answers later.
 */
export function messageSizeInterceptor(maxBytes: number, observe?: CallObserver): ServerInterceptor {
  return (method, call) => {
    const ended = observe?.(method);
    const base = call as { sendStatus?: (status: PartialStatusObject) => void };
    const send = base.sendStatus;
    if (typeof send === 'function') {
      base.sendStatus = function (this: unknown, answer: PartialStatusObject) {
        if (answer.code === status.RESOURCE_EXHAUSTED && SIZE_MESSAGES.test(answer.details ?? '')) {
          answer = { ...answer, details: sizeMessage(answer.details, maxBytes) };
        }
        ended?.(answer.code);
        send.call(this, answer);
      };
    }
    if (ended === undefined) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, { start: (next) => next({ onCancel: () => ended(status.CANCELLED) }) });
  };
}

type PartialStatusObject = Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata | null };
