/**
 * What the main thread and the worker threads of a code model's pool (`workers: N`) send each other. Shared by
 * `worker-pool.ts` (main thread) and `worker-body.ts` (each worker); types and plain data only.
 */
import type { JsonSchema } from '../model/contract.js';

/** `workerData` of every worker of one pool: how to construct the model, and the channel unload requests come on. */
export interface WorkerData {
  /** The resolved URL of the module that exports the class. */
  readonly url: string;
  readonly exportName: string;
  /** The entry's `configuration`; every worker receives its own structured clone. */
  readonly configuration: Record<string, unknown>;
  /** Name of the BroadcastChannel on which the main thread asks every worker to unload. */
  readonly channel: string;
}

/** One call run by a worker of the pool. */
export type WorkerTask = { readonly op: 'predict'; readonly input: unknown } | { readonly op: 'predictBatch'; readonly inputs: unknown[] };

/** An error as it crosses the thread boundary: enough to rebuild a catalogue error (`type`) or a plain one. */
export interface SerializedError {
  readonly message: string;
  readonly name?: string;
  readonly stack?: string;
  /** Set when the model threw a longshore catalogue error (e.g. `SchemaValidationError`), so it keeps its status. */
  readonly type?: string;
  readonly details?: { path: string; message: string }[];
  readonly retryAfterSeconds?: number;
}

/**
 * The answer to a task. A model's output travels as `v8.serialize` bytes: serializing in the worker is where a value
 * that cannot be cloned (a function, a symbol, a promise) fails, so it fails as an error of the call, not by crashing
 * the worker when piscina posts the result.
 */
export type WorkerReply = { readonly ok: true; readonly value: Uint8Array } | { readonly ok: false; readonly error: SerializedError };

/** Marks the messages a worker posts to the main thread outside tasks (piscina re-emits them as the pool's `message`). */
export const WORKER_REPORT = 'longshore.worker-report';

/** What a worker reports: the end of its load (with the schemas it then has), or of an unload request. */
export type WorkerReport =
  | {
      readonly [WORKER_REPORT]: 'loaded';
      readonly threadId: number;
      readonly input_schema: JsonSchema | undefined;
      readonly output_schema: JsonSchema | undefined;
    }
  | { readonly [WORKER_REPORT]: 'load-failed'; readonly threadId: number; readonly error: SerializedError }
  | { readonly [WORKER_REPORT]: 'unloaded'; readonly threadId: number; readonly error?: SerializedError }
  | { readonly [WORKER_REPORT]: 'memory'; readonly threadId: number; readonly request: number; readonly heapUsed: number };

/** The message the main thread broadcasts to every worker of a pool at unload. */
export const UNLOAD_REQUEST = 'unload';

/** The message the main thread broadcasts to ask every worker of a pool for its used heap (`request` tells readings apart). */
export interface MemoryRequest {
  readonly kind: 'memory';
  readonly request: number;
}

export function isMemoryRequest(message: unknown): message is MemoryRequest {
  return typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === 'memory';
}

export function isWorkerReport(message: unknown): message is WorkerReport {
  return typeof message === 'object' && message !== null && WORKER_REPORT in message;
}

/** Why a worker thread of a pool was replaced (`longshore_worker_restarts_total{reason}`). */
export type WorkerRestartReason = 'deadline' | 'exit' | 'error' | 'memory';

/** A worker thread of a pool that ended while the model was serving, and was replaced. */
export interface WorkerRestart {
  readonly reason: WorkerRestartReason;
  /** What happened, for the log line: `the thread exited with code 3`. */
  readonly detail: string;
}

/** The method by which a pool-backed model reports its replaced threads; the registry subscribes to log and count them. */
export const WATCH_WORKERS = Symbol.for('longshore.watch-workers');

export interface WatchesWorkers {
  [WATCH_WORKERS](listener: (restart: WorkerRestart) => void): void;
}

/** Whether `model` runs in a worker pool that reports its replaced threads. */
export function watchesWorkers(model: object): model is WatchesWorkers {
  return typeof (model as Partial<WatchesWorkers>)[WATCH_WORKERS] === 'function';
}
