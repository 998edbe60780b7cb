/**
 * The grpc_server_* metrics (metrics/grpc-metrics.ts, go-grpc-prometheus's names) fed from the first interceptor
 * (status.ts): each method's series bound the first time it is called, then per call a start time and one count and
 * one observe when it ends, whatever ends it (the handler, a refusal of auth.ts, a size limit, the deadline, the client).
 */
import type { ServerMethodDefinition } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { GrpcMetrics, type GrpcMethodSeries, type GrpcType } from '../metrics/grpc-metrics.js';
import type { CallObserver } from './status.js';

function typeOf(method: ServerMethodDefinition<unknown, unknown>): GrpcType {
  if (method.requestStream) return method.responseStream ? 'bidi_stream' : 'client_stream';
  return method.responseStream ? 'server_stream' : 'unary';
}

/** Registers the metrics in `registry` and returns the observer of every call. */
export function grpcCallMetrics(registry: Registry): CallObserver {
  const metrics = new GrpcMetrics(registry);
  const series = new Map<string, GrpcMethodSeries>();
  return (method) => {
    let bound = series.get(method.path);
    if (bound === undefined) series.set(method.path, (bound = metrics.method(method.path, typeOf(method))));
    const started = performance.now();
    let done = false;
    const methodSeries = bound;
    return (code) => {
      if (done) return;
      done = true;
      methodSeries.handled(code, (performance.now() - started) / 1000);
    };
  };
}
