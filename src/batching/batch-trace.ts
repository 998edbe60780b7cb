/**
 * The batcher's spans (docs/tracing.md), made only for jobs that carry a sampled span: each job's wait in the queue
 * (`queue`, under the job's span, recorded when its batch starts), the batch (`batch`, under the first sampled job's
 * span and linked to every sampled job's span), and each run of the model for it (`model.run`, under the batch; a
 * failed batch of several jobs runs each job again alone, each run its own span).
 */
import { ATTR, type TraceAttributes, type TraceSpan } from '../tracing/span.js';
import { traceAsync } from '../tracing/steps.js';

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
