/**
 * The IPC messages between the cluster's primary and its workers, and the guards that tell them apart from anything
 * else on the channel (node:cluster's own messages, a model's).
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** One registry's metrics as prom-client's getMetricsAsJSON() returns them: what AggregatorRegistry.aggregate() sums. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** A worker's readiness, sent once its channel is open and on every change. The first one also says "I joined". */
export interface ReadyMessage {
  readonly type: 'longshore:ready';
  readonly ready: boolean;
}

/** A worker asks the primary for the whole cluster's metrics (answered with a MetricsResponse of the same id). */
export interface MetricsRequest {
  readonly type: 'longshore:metrics-request';
  readonly id: number;
}

/** A worker's own metrics, for the primary's MetricsCollect of the same id. */
export interface MetricsPart {
  readonly type: 'longshore:metrics-part';
  readonly id: number;
  readonly metrics?: MetricsJson;
  readonly error?: string;
}

export type WorkerMessage = ReadyMessage | MetricsRequest | MetricsPart;

/** One running worker as the primary sees it. */
export interface WorkerState {
  readonly pid: number;
  readonly ready: boolean;
}

/** The primary's view of the cluster, broadcast to every worker whenever it changes. */
export interface ClusterViewMessage {
  readonly type: 'longshore:cluster-view';
  /** How many workers should be running. */
  readonly expected: number;
  /** The workers running now. */
  readonly workers: readonly WorkerState[];
  /** The primary is shutting the cluster down. */
  readonly stopping: boolean;
}

/** The Prometheus text of every worker's metrics summed, or why it could not be had. */
export interface MetricsResponse {
  readonly type: 'longshore:metrics-response';
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/** The primary asks a worker for its own metrics (answered with a MetricsPart of the same id). */
export interface MetricsCollect {
  readonly type: 'longshore:metrics-collect';
  readonly id: number;
}

export type PrimaryMessage = ClusterViewMessage | MetricsResponse | MetricsCollect;

const WORKER_TYPES = new Set(['longshore:ready', 'longshore:metrics-request', 'longshore:metrics-part']);
const PRIMARY_TYPES = new Set(['longshore:cluster-view', 'longshore:metrics-response', 'longshore:metrics-collect']);

function typeOf(message: unknown): unknown {
  return typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
}

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return WORKER_TYPES.has(typeOf(message) as string);
}

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return PRIMARY_TYPES.has(typeOf(message) as string);
}
