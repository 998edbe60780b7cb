/**
 * The gRPC server metrics of go-grpc-prometheus (what Go and Java gRPC dashboards already chart): the same names,
 * labels, code names and buckets. `grpc_server_handled_total{grpc_type, grpc_service, grpc_method, grpc_code}` counts
 * finished calls; `grpc_server_handling_seconds{grpc_type, grpc_service, grpc_method}` is their duration. Registered
 * only when the gRPC port is on (grpc/server.ts creates this object); the per-model metrics are the dataplane's, as
 * for REST. Knows nothing of grpc-js: grpc/metrics.ts hands it the method path, the status code and the duration.
 *
 * Hot path: one bound `GrpcMethodSeries` per method (bound once, when the server starts), and per call an array index
 * by status code and a histogram observe; the counter child of a (method, code) pair is bound the first time it is seen.
 */
import type { Registry } from 'prom-client';
import { FastCounter, FastHistogram, type HistogramChild, type ValueChild } from './fast-histogram.js';

/** prometheus.DefBuckets, go-grpc-prometheus's default for the handling-time histogram. */
export const GRPC_HANDLING_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The `grpc_code` label of each status code, as Go's codes.Code.String() writes it (go-grpc-prometheus's values). */
export const GRPC_CODE_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
] as const;

/** `grpc_type`: go-grpc-prometheus's names of the four kinds of RPC. */
export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** One method's series: `handled(code, seconds)` when a call of it ends. */
export class GrpcMethodSeries {
  readonly #byCode: (ValueChild | undefined)[] = [];

  constructor(
    private readonly metrics: GrpcMetrics,
    private readonly labels: Readonly<Record<'grpc_type' | 'grpc_service' | 'grpc_method', string>>,
    private readonly duration: HistogramChild,
  ) {}

  handled(code: number, seconds: number): void {
    let child = this.#byCode[code];
    if (child === undefined) {
      child = this.metrics.handled.child({ ...this.labels, grpc_code: GRPC_CODE_NAMES[code] ?? String(code) });
      this.#byCode[code] = child;
    }
    child.value++;
    this.duration.observe(seconds);
  }
}

export class GrpcMetrics {
  readonly handled: FastCounter;
  readonly handlingSeconds: FastHistogram;

  constructor(registry: Registry) {
    this.handled = new FastCounter('grpc_server_handled_total', 'Total number of RPCs completed on the server, regardless of success or failure.', registry);
    this.handlingSeconds = new FastHistogram(
      'grpc_server_handling_seconds',
      'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      GRPC_HANDLING_BUCKETS,
      registry,
    );
  }

  /** The series of the method at `path` (`/package.Service/Method`), to bind once per method. */
  method(path: string, type: GrpcType): GrpcMethodSeries {
    const slash = path.lastIndexOf('/');
    const labels = { grpc_type: type, grpc_service: path.slice(1, slash), grpc_method: path.slice(slash + 1) };
    return new GrpcMethodSeries(this, labels, this.handlingSeconds.child(labels));
  }
}
