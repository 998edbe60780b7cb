/**
 * The batcher's interfaces: its options, the executor that runs its jobs, what a submit takes, and the observer it
 * reports to (the metrics catalogue). Re-exported by batcher.ts, where importers take them from.
 */
import type { CancelSignal, RunStop } from '../call-context.js';
import type { TraceAttributes, TraceSpan } from '../tracing/span.js';
import type { CallTiming } from '../tracing/timing.js';

export type BatchPolicy = 'eager' | 'timed' | 'off';

export interface BatcherOptions {
  readonly policy: BatchPolicy;
  /** Most rows in one batch; a single job with more still runs, alone. */
  readonly maxBatchSize: number;
  /** `timed`: how long the oldest queued job may wait for its batch to fill. */
  readonly maxLatencyMs: number;
  /** Most rows waiting (not counting batches running); a job that would go beyond is refused at once. */
  readonly maxQueueSize: number;
  /** Most batches running at once (Infinity: no limit). */
  readonly maxConcurrency: number;
  /** Names the queue in error messages (`model 'iris'`). */
  readonly label: string;
  readonly observer?: BatchObserver;
  /** Attributes of the batch's span when tracing is on (the model's name and version). */
  readonly traceAttributes?: TraceAttributes;
}

export interface BatchExecutor<J, R> {
  /** Rows the job holds (records, or the size of its tensors' first dimension). */
  rows(job: J): number;
  /** Jobs with equal keys may share a run; `undefined` means the job always runs alone. */
  key(job: J): string | undefined;
  /**
   * Runs the jobs as one batch: one result per job, in order. `stop` is stopped once every job's caller was answered at
   * its deadline (see RunStop): a runtime that can end the call should.
   */
  run(jobs: readonly J[], stop?: RunStop): Promise<R[]>;
}

export interface SubmitOptions {
  /** Deadline from now, in milliseconds, counting time queued; past it the caller gets DeadlineExceededError. */
  readonly timeoutMs?: number;
  /** Cancelled when the client goes away: a job still queued is dropped. */
  readonly signal?: CancelSignal;
  /** The caller's span (tracing on): the job's queue wait, its batch and the model run are traced (batch-trace.ts). */
  readonly span?: TraceSpan | undefined;
  /** The caller's timing (docs/timing.md): its queue wait, batch and model call are written into it (batch-trace.ts). */
  readonly timing?: CallTiming | undefined;
}

/** Why the queue refused or dropped a job; `stuck`: every slot is held by a call stuck past its deadline (503). */
export type RejectionReason = 'queue_full' | 'deadline' | 'cancelled' | 'stuck';

/** What the batcher reports about itself, for the metrics catalogue. */
export interface BatchObserver {
  /** Rows waiting, after every change. */
  queueDepth(rows: number): void;
  /** How long a job waited before its batch started. */
  waited(seconds: number): void;
  /** A batch finished (or failed): its rows and how long the model took. */
  ran(rows: number, seconds: number): void;
  rejected(reason: RejectionReason): void;
  /** Batches running past the deadline of every caller in them (see slots.ts), after every change. */
  stuck?(batches: number): void;
}
