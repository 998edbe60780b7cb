/**
 * The batcher's spans (docs/tracing.md) and per-request timing (docs/timing.md, at the same points). Spans are made only for jobs that carry a sampled span: each job's wait in the queue
 * (`queue`, under the job's span, recorded when its batch starts), the batch (`batch`, under the first sampled job's
 * span and linked to every sampled job's span), and each run of the model for it (`model.run`, under the batch; a
 * failed batch of several jobs runs each job again alone, each run its own span). Timing is written only into jobs
 * that carry a CallTiming: the queue wait, the batch's id and rows, and (when the job is settled) the model call.
 */
import { ATTR, type TraceAttributes, type TraceSpan } from '../tracing/span.js';
import { traceAsync } from '../tracing/steps.js';
import type { CallTiming } from '../tracing/timing.js';

export interface TracedJob {
  readonly span?: TraceSpan | undefined;
  /** performance.now() when queued. */
  readonly enqueued: number;
}

/**
 * Records every sampled job's queue wait (ending at `started`) and opens the batch's span: undefined when no job of it
 * is sampled. `rows`: the batch's rows (its size); `attributes`: the model's name and version.
 */
export function startBatchSpan(jobs: readonly TracedJob[], rows: number, started: number, attributes: TraceAttributes | undefined): TraceSpan | undefined {
  let links: TraceSpan[] | undefined;
  for (const job of jobs) {
    const span = job.span;
    if (span === undefined || !span.recording) continue;
    span.child('queue', undefined, { startedAt: job.enqueued }).end(started);
    (links ??= []).push(span);
  }
  if (links === undefined) return undefined;
  const parent = links[0] as TraceSpan;
  return parent.child('batch', { ...attributes, [ATTR.batchSize]: rows, [ATTR.batchRequests]: jobs.length }, { startedAt: started, links });
}

/** One run of the model for a batch (or for one job of it, run again alone), as a child of the batch's span. */
export function traceRun<T>(batch: TraceSpan, rows: number, run: () => Promise<T>): Promise<T> {
  return traceAsync(batch, 'model.run', run, { [ATTR.batchSize]: rows });
}

export interface TimedJob {
  /** The caller's timing; cleared when another batch of the same request is the one reported. */
  timing?: CallTiming | undefined;
  readonly enqueued: number;
}

/** Writes the batch (`id`: the model's batch counter; `rows`) and each timed job's queue wait into their timings. */
export function startBatchTiming(jobs: readonly TimedJob[], id: number, rows: number, started: number): void {
  for (const job of jobs) {
    const timing = job.timing;
    if (timing !== undefined && !timing.batchStart(id, rows, job.enqueued, started)) job.timing = undefined;
  }
}
