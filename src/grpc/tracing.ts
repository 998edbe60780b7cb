/**
 * A traced gRPC call (tracing.enabled, docs/tracing.md): a SERVER span named `inference.GRPCInferenceService/<Method>`
 * continuing the caller's `traceparent` from the metadata, with the RPC semantic-convention attributes, the span's own
 * `traceparent` sent back in the initial metadata, and the gRPC status code the call ends with.
 */
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import type { TraceAttributes, TraceSpan, Tracing } from '../tracing/span.js';
import { toStatus } from './status.js';

const SERVICE = 'inference.GRPCInferenceService';
/** UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. */
const SERVER_ERRORS = new Set<number>([2, 4, 12, 13, 14, 15]);

export async function tracedCall<T>(tracing: Tracing, call: ServerUnaryCall<unknown, unknown>, method: string, attributes: TraceAttributes, run: (span: TraceSpan) => Promise<T>): Promise<T> {
  const span = tracing.startRequestSpan({
    name: `${SERVICE}/${method}`,
    carrier: call.metadata,
    getter: (metadata: Metadata, name: string) => {
      const [value] = metadata.get(name);
      return typeof value === 'string' ? value : undefined;
    },
    attributes: { 'rpc.system': 'grpc', 'rpc.service': SERVICE, 'rpc.method': method, ...attributes },
  });
  const outgoing = new Metadata();
  tracing.inject(span, outgoing, (metadata: Metadata, name: string, value: string) => metadata.set(name, value));
  call.sendMetadata(outgoing);
  try {
    const result = await run(span);
    span.setAttribute('rpc.grpc.status_code', 0);
    return result;
  } catch (error) {
    const code = toStatus(error).status.code;
    if (code !== undefined) span.setAttribute('rpc.grpc.status_code', code);
    // The semantic conventions' server errors; a client's mistake (INVALID_ARGUMENT, NOT_FOUND, ...) does not fail the span.
    if (code === undefined || SERVER_ERRORS.has(code)) span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}
