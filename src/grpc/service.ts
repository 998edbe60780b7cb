/**
 * The RPCs of inference.GRPCInferenceService, each a thin adapter over the dataplane making the same calls as the V2
 * REST routes (http/routes/v2.ts), and each wrapped by `unary` (status.ts): the one place errors become statuses.
 */
import { randomUUID } from 'node:crypto';
import type { Metadata, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Cancellation, type CallContext } from '../call-context.js';
import type { Dataplane } from '../dataplane/dataplane.js';
import { ModelNotReadyError } from '../errors.js';
import { unary } from './status.js';
import { tracedCall } from './tracing.js';
import { ATTR, type TraceSpan, type Tracing } from '../tracing/span.js';
import { traceStep } from '../tracing/steps.js';
import { decodeGrpcRequest, encodeGrpcResponse, type DecodedGrpcRequest, type InferRequestMessage } from './tensors.js';

interface ModelRef {
  name: string;
  version: string;
}

export interface ServiceOptions {
  readonly dataplane: Dataplane;
  readonly logger: Logger;
  /** limits.predict.max_tensor_elements. */
  readonly maxTensorElements: number;
  readonly tracing?: Tracing;
}

/** The handlers, by RPC name. */
export function inferenceService({ dataplane, logger, maxTensorElements, tracing }: ServiceOptions): UntypedServiceImplementation {
  return {
    ServerLive: unary('ServerLive', logger, () => ({ live: true })),
    // As Triton: OK with ready false when not ready (the REST route's 503 is HTTP's way to say it).
    ServerReady: unary('ServerReady', logger, () => ({ ready: dataplane.readinessProblems().length === 0 })),
    ModelReady: unary('ModelReady', logger, (call: ServerUnaryCall<ModelRef, unknown>) => {
      const { name, version } = call.request;
      try {
        dataplane.assertModelReady(name, version || undefined);
        return { ready: true };
      } catch (error) {
        // An unknown model stays NOT_FOUND; a known one that cannot answer now is ready: false.
        if (error instanceof ModelNotReadyError) return { ready: false };
        throw error;
      }
    }),
    ServerMetadata: unary('ServerMetadata', logger, () => dataplane.serverMetadata()),
    ModelMetadata: unary('ModelMetadata', logger, (call: ServerUnaryCall<ModelRef, unknown>) => {
      const { name, version } = call.request;
      return { ...dataplane.tensorMetadata(name, version || undefined), properties: {} };
    }),
    ModelInfer: unary('ModelInfer', logger, (call: ServerUnaryCall<InferRequestMessage, unknown>) => {
      const infer = async (span?: TraceSpan) => {
        const message = call.request;
        const decode = () => decodeGrpcRequest(message, maxTensorElements);
        const answer = await dataplane.infer<DecodedGrpcRequest>(
          message.model_name,
          message.model_version || undefined,
          span ? () => traceStep(span, 'decode', decode) : decode,
          (decoded) => ({ ...callContext(call, decoded.timeoutMs), ...(span ? { span } : {}) }),
        );
        const encode = () => encodeGrpcResponse(answer.response, answer.request.raw);
        return span ? traceStep(span, 'encode', encode) : encode();
      };
      return tracing ? tracedCall(tracing, call, 'ModelInfer', { [ATTR.model]: call.request.model_name }, infer) : infer();
    }),
  };
}

/**
 * The CallContext of a call: its deadline is the gRPC deadline (the shorter of it and `parameters.timeout`; the model's
 * timeout_ms then applies as over REST), and its signal is cancelled when the client cancels or goes away.
 */
function callContext(call: ServerUnaryCall<unknown, unknown>, parameterTimeoutMs: number | undefined): CallContext {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  // A deadline already past still gets a positive one: the batcher answers DEADLINE_EXCEEDED, as for any late call.
  const grpcTimeoutMs = Number.isFinite(at) ? Math.max(at - Date.now(), 1) : undefined;
  const timeoutMs = grpcTimeoutMs === undefined ? parameterTimeoutMs : parameterTimeoutMs === undefined ? grpcTimeoutMs : Math.min(grpcTimeoutMs, parameterTimeoutMs);
  const cancellation = new Cancellation();
  // grpc-js also reports a passed deadline as 'cancelled': that call is the batcher's to drop as late (a deadline in
  // the metrics, not a cancellation), at the same moment.
  call.once('cancelled', () => {
    if (!(Date.now() >= at - 1)) cancellation.cancel();
  });
  if (call.cancelled) cancellation.cancel();
  const headers = headersOf(call.metadata);
  const given = headers['x-request-id'];
  const requestId = typeof given === 'string' && /^[\w.:@/+=-]{1,128}$/.test(given) ? given : randomUUID();
  return { timeoutMs, signal: cancellation, requestId, headers };
}

/** The call's text metadata as headers (names are lower case in gRPC already); binary (`-bin`) entries are left out. */
function headersOf(metadata: Metadata): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) if (typeof value === 'string') headers[key] = value;
  return headers;
}
