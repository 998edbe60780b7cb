/**
 * The batcher: the one queue in front of a model. It gathers requests into batches (policies `eager`, `timed`, `off`),
 * bounds what waits (`maxQueueSize` rows) and what runs (`maxConcurrency` batches), enforces each request's deadline,
 * drops requests whose client went away, and hands every caller exactly its own results.
 *
 * It knows nothing of models or tensors: an executor says how many rows a job has, which jobs may share a run (equal
 * keys), and runs a list of jobs, returning one result per job in order.
 */
import { DeadlineExceededError, QueueFullError, RequestCancelledError, type ModelNotReadyError } from '../errors.js';
import type { BatchExecutor, BatcherOptions, SubmitOptions } from './batcher-types.js';
import type { CancelSignal, RunStop } from '../call-context.js';
import { Slots, type RunningBatch } from './slots.js';
import type { TraceSpan } from '../tracing/span.js';
import { startBatchSpan, startBatchTiming, traceRun } from './batch-trace.js';
import type { CallTiming } from '../tracing/timing.js';

export type { BatchExecutor, BatchObserver, BatcherOptions, BatchPolicy, RejectionReason, SubmitOptions } from './batcher-types.js';
export { Cancellation, type CancelSignal, type RunStop } from '../call-context.js';

/** Longest delay a Node timer takes (2^31−1 ms, about 24.8 days); beyond it Node fires after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647;

/** Seconds a refused caller is told to wait: a queue drains within a few runs. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 1;

type State = 'queued' | 'running' | 'settled';

interface Pending<J, R> {
  readonly job: J;
  readonly rows: number;
  readonly key: string | undefined;
  /** performance.now() when queued. */
  readonly enqueued: number;
  readonly timeoutMs: number | undefined;
  state: State;
  resolve(result: R): void;
  reject(error: unknown): void;
  timer?: NodeJS.Timeout;
  signal?: CancelSignal;
  /** The batch it runs in, once started. */
  batch?: RunningBatch;
  /** The caller's span (tracing on): its queue wait and batch are traced under it (batch-trace.ts). */
  span?: TraceSpan;
  /** The caller's timing (docs/timing.md); cleared at the start when another batch of its request is the one reported. */
  timing: CallTiming | undefined;
}

export class Batcher<J, R> {
  readonly #executor: BatchExecutor<J, R>;
  readonly #options: BatcherOptions;
  #queue: Pending<J, R>[] = [];
  #queuedRows = 0;
  /** Rows queued per key, so the timed policy knows when a batch is full without scanning (kept for `timed` only). */
  readonly #rowsByKey = new Map<string, number>();
  readonly #slots: Slots;
  #flushQueued = false;
  #latencyTimer: NodeJS.Timeout | undefined;
  #latencyDue = 0;
  #batches = 0; // batches started so far: a batch's id in per-request timing (docs/timing.md)

  constructor(executor: BatchExecutor<J, R>, options: BatcherOptions) {
    if (!Number.isInteger(options.maxBatchSize) || options.maxBatchSize < 1) throw new RangeError('maxBatchSize must be a positive integer');
    if (!(options.maxConcurrency >= 1)) throw new RangeError('maxConcurrency must be at least 1 (Infinity for no limit)');
    this.#executor = executor;
    this.#options = options;
    this.#slots = new Slots(options.maxConcurrency, options.label, (stuck) => {
      options.observer?.stuck?.(stuck);
      if (this.#slots.allStuck) this.#refuseQueued();
    });
  }

  /** Rows waiting (not counting batches running). */
  get queuedRows(): number {
    return this.#queuedRows;
  }

  /** Batches running now (stuck ones included). */
  get running(): number {
    return this.#slots.running;
  }

  /** Why the queue can run nothing (every slot held by a stuck call), for readiness; undefined otherwise. */
  stuckProblem(): string | undefined {
    return this.#slots.problem();
  }

  /** The 503 ModelNotReadyError a job gets while every slot is stuck; undefined otherwise. */
  stuckRefusal(): ModelNotReadyError | undefined {
    return this.#slots.allStuck ? this.#slots.refusal() : undefined;
  }

  /** Whether a job of one row or more would be refused now (rows are queued and max_queue_size is reached). */
  get full(): boolean {
    return this.#queuedRows > 0 && this.#queuedRows >= this.#options.maxQueueSize;
  }

  /**
   * The 503 for a job refused because the queue is full, counted (`rejected('queue_full')`); submit() and the check on
   * arrival (src/http/admission.ts) both answer with it. No stack trace: under overload this runs thousands of times a
   * second, capturing a stack measured as a sizeable share of a refusal, and a 503 is never logged with one.
   */
  refuseFull(): QueueFullError {
    const { maxQueueSize, label, observer } = this.#options;
    observer?.rejected('queue_full');
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new QueueFullError(`the queue of ${label} is full (${this.#queuedRows} rows waiting, max_queue_size ${maxQueueSize}); retry shortly`, {
        retryAfterSeconds: QUEUE_FULL_RETRY_AFTER_SECONDS,
      });
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  /** Queues a job; resolves with exactly its result, or rejects with its own error. */
  submit(job: J, options: SubmitOptions = {}): Promise<R> {
    const rows = this.#executor.rows(job);
    const { maxQueueSize, label, observer } = this.#options;
    if (options.signal?.cancelled) {
      observer?.rejected('cancelled');
      return Promise.reject(cancelled(label));
    }
    if (this.#slots.allStuck) {
      observer?.rejected('stuck');
      return Promise.reject(this.#slots.refusal());
    }
    // Never queue without bound; an empty queue always takes a job, however large, so it can run alone.
    if (this.#queuedRows > 0 && this.#queuedRows + rows > maxQueueSize) return Promise.reject(this.refuseFull());
    return new Promise<R>((resolve, reject) => {
      // A deadline beyond what a timer can hold (weeks) is no deadline at all, not one that fires at once.
      const timeoutMs = options.timeoutMs !== undefined && options.timeoutMs > 0 && options.timeoutMs <= MAX_TIMER_MS ? options.timeoutMs : undefined;
      const pending: Pending<J, R> = { job, rows, key: this.#executor.key(job), enqueued: performance.now(), timeoutMs, state: 'queued', timing: options.timing, resolve, reject };
      if (timeoutMs !== undefined) pending.timer = setTimeout(() => this.#expire(pending), timeoutMs);
      if (options.span !== undefined) pending.span = options.span;
      options.timing?.queued(pending.enqueued);
      if (options.signal) {
        pending.signal = options.signal;
        options.signal.onCancel(() => this.#cancel(pending));
      }
      // A free slot and nobody ahead: `off` starts at once, with no queue and no extra turn of the event loop.
      if (this.#options.policy === 'off' && this.#queue.length === 0 && this.#slots.free) {
        this.#start([pending]);
        return;
      }
      this.#enqueue(pending);
      this.#schedule();
    });
  }

  #enqueue(pending: Pending<J, R>): void {
    this.#queue.push(pending);
    this.#queuedRows += pending.rows;
    if (pending.key !== undefined && this.#options.policy === 'timed') this.#rowsByKey.set(pending.key, (this.#rowsByKey.get(pending.key) ?? 0) + pending.rows);
    this.#options.observer?.queueDepth(this.#queuedRows);
  }

  /** Takes `taken` (already marked running or settled) out of the queue's counts and array. */
  #dequeue(taken: readonly Pending<J, R>[]): void {
    for (const pending of taken) {
      this.#queuedRows -= pending.rows;
      if (pending.key !== undefined && this.#options.policy === 'timed') {
        const left = (this.#rowsByKey.get(pending.key) ?? 0) - pending.rows;
        if (left > 0) this.#rowsByKey.set(pending.key, left);
        else this.#rowsByKey.delete(pending.key);
      }
    }
    this.#queue = this.#queue.filter((pending) => pending.state === 'queued');
    this.#options.observer?.queueDepth(this.#queuedRows);
  }

  /** Decides when the queue runs next: now, at the next turn of the event loop, or when the oldest job is due. */
  #schedule(): void {
    if (this.#queue.length === 0 || !this.#slots.free) {
      this.#clearLatencyTimer();
      return;
    }
    switch (this.#options.policy) {
      case 'off':
        this.#flush();
        return;
      case 'eager':
        // setImmediate, not a microtask: requests read in the same I/O phase all join before it runs.
        if (this.#flushQueued) return;
        this.#flushQueued = true;
        setImmediate(() => {
          this.#flushQueued = false;
          this.#flush();
        });
        return;
      case 'timed': {
        if (this.#fullKey() !== undefined) {
          this.#flush();
          return;
        }
        const head = this.#queue[0] as Pending<J, R>;
        const due = head.enqueued + this.#options.maxLatencyMs;
        if (head.key === undefined || due <= performance.now()) {
          this.#flush();
          return;
        }
        if (this.#latencyTimer !== undefined && this.#latencyDue === due) return;
        this.#clearLatencyTimer();
        this.#latencyDue = due;
        this.#latencyTimer = setTimeout(() => {
          this.#latencyTimer = undefined;
          this.#flush();
        }, due - performance.now());
        return;
      }
    }
  }

  #clearLatencyTimer(): void {
    if (this.#latencyTimer === undefined) return;
    clearTimeout(this.#latencyTimer);
    this.#latencyTimer = undefined;
  }

  /** Starts batches while slots are free and (timed) a batch is due; then schedules what is left. */
  #flush(): void {
    while (this.#queue.length > 0 && this.#slots.free) {
      const key = this.#dueKey();
      if (key === null) break;
      this.#start(this.#take(key));
    }
    if (this.#queue.length > 0 && this.#slots.free) this.#schedule();
    else this.#clearLatencyTimer();
  }

  /**
   * Which batch to start: the head's (its key, `undefined` for a job that runs alone) when its batch may start now;
   * for `timed`, the head's once it has waited maxLatencyMs (a job without a key at once), else a full batch of any
   * key; null when none is due.
   */
  #dueKey(): string | undefined | null {
    const head = this.#queue[0] as Pending<J, R>;
    if (this.#options.policy !== 'timed') return head.key;
    // The head first when it is due, so a key whose batches keep filling cannot starve it; a job that can share no
    // batch gains nothing by waiting.
    if (head.key === undefined || head.enqueued + this.#options.maxLatencyMs <= performance.now()) return head.key;
    return this.#fullKey() ?? null;
  }

  /** A key whose queued rows fill a batch (timed policy). */
  #fullKey(): string | undefined {
    for (const [key, rows] of this.#rowsByKey) if (rows >= this.#options.maxBatchSize) return key;
    return undefined;
  }

  /**
   * The next batch of `key`, oldest first, up to maxBatchSize rows (always at least one job). `off`, and a job without
   * a key, take one job.
   */
  #take(key: string | undefined): Pending<J, R>[] {
    const batch: Pending<J, R>[] = [];
    if (key === undefined || this.#options.policy === 'off') {
      const first = key === undefined ? (this.#queue[0] as Pending<J, R>) : (this.#queue.find((pending) => pending.key === key) as Pending<J, R>);
      batch.push(first);
    } else {
      let rows = 0;
      for (const pending of this.#queue) {
        if (pending.key !== key) continue;
        if (batch.length > 0 && rows + pending.rows > this.#options.maxBatchSize) break;
        batch.push(pending);
        rows += pending.rows;
      }
    }
    for (const pending of batch) pending.state = 'running';
    this.#dequeue(batch);
    return batch;
  }

  /** Runs a batch; settles each job with its own result or error, then lets the queue move. */
  #start(batch: Pending<J, R>[]): void {
    const run = this.#slots.begin(batch.length);
    const started = performance.now();
    const observer = this.#options.observer;
    let rows = 0;
    let traced = false;
    let timed = false;
    const id = ++this.#batches;
    for (const pending of batch) {
      pending.state = 'running';
      pending.batch = run;
      rows += pending.rows;
      if (pending.span !== undefined) traced = true;
      if (pending.timing !== undefined) timed = true;
      observer?.waited((started - pending.enqueued) / 1000);
    }
    if (timed) startBatchTiming(batch, id, rows, started);
    const span = traced ? startBatchSpan(batch, rows, started, this.#options.traceAttributes) : undefined;
    void this.#runBatch(batch, run, rows, span).finally(() => {
      this.#slots.end(run);
      observer?.ran(rows, (performance.now() - started) / 1000);
      span?.end();
      this.#schedule();
    });
  }

  async #runBatch(batch: Pending<J, R>[], stop: RunStop, rows: number, span: TraceSpan | undefined): Promise<void> {
    try {
      const results = await this.#runJobs(batch.map((pending) => pending.job), stop, rows, span);
      batch.forEach((pending, index) => this.#settle(pending, results[index] as R, undefined));
    } catch (error) {
      span?.fail(error);
      if (batch.length === 1) this.#settle(batch[0] as Pending<J, R>, undefined, error);
      else await this.#isolate(batch, stop, span);
    }
  }

  /**
   * A batch of several jobs failed: run each job on its own, so one caller's bad row (e.g. an index a Gather cannot
   * take) fails only that caller. Jobs whose deadline already passed are not run again.
   */
  async #isolate(batch: readonly Pending<J, R>[], stop: RunStop, span: TraceSpan | undefined): Promise<void> {
    for (const pending of batch) {
      // Past its deadline (already answered), or its client is gone: nobody would read the result.
      if (pending.state === 'settled' || pending.signal?.cancelled) {
        if (pending.state !== 'settled') this.#settle(pending, undefined, cancelled(this.#options.label));
        continue;
      }
      try {
        const [result] = await this.#runJobs([pending.job], stop, pending.rows, span);
        this.#settle(pending, result as R, undefined);
      } catch (error) {
        this.#settle(pending, undefined, error);
      }
    }
  }

  /** Runs jobs as one call of the executor; with a batch span, the call is a `model.run` span under it. */
  async #runJobs(jobs: readonly J[], stop: RunStop, rows: number, span: TraceSpan | undefined): Promise<R[]> {
    const results = await (span === undefined ? this.#executor.run(jobs, stop) : traceRun(span, rows, () => this.#executor.run(jobs, stop)));
    if (!Array.isArray(results) || results.length !== jobs.length) {
      throw new Error(`a batch of ${jobs.length} jobs produced ${Array.isArray(results) ? results.length : 'no'} results`);
    }
    return results;
  }

  /** Settles a job once: a job already answered (deadline) drops its late result. */
  #settle(pending: Pending<J, R>, result: R | undefined, error: unknown): void {
    if (pending.state === 'settled') return;
    pending.state = 'settled';
    this.#finish(pending, result, error);
  }

  #finish(pending: Pending<J, R>, result: R | undefined, error: unknown): void {
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    pending.signal?.onCancel(undefined);
    pending.timing?.batchEnd(performance.now());
    if (error === undefined) pending.resolve(result as R);
    else pending.reject(error);
  }

  #expire(pending: Pending<J, R>): void {
    const waited = Math.round(performance.now() - pending.enqueued);
    const { label, observer } = this.#options;
    if (pending.state === 'queued') {
      this.#remove(pending);
      observer?.rejected('deadline');
      this.#finish(pending, undefined, new DeadlineExceededError(`deadline of ${pending.timeoutMs} ms passed after ${waited} ms waiting in the queue of ${label}; the request was not run`));
    } else if (pending.state === 'running') {
      observer?.rejected('deadline');
      this.#settle(pending, undefined, new DeadlineExceededError(`deadline of ${pending.timeoutMs} ms passed while ${label} was still computing (${waited} ms since the request was queued); its result will be dropped`));
      if (pending.batch) this.#slots.answered(pending.batch);
    }
  }

  /** Every slot is stuck: the jobs still queued could only wait for their deadline; answer them 503 now. */
  #refuseQueued(): void {
    const queued = this.#queue;
    if (queued.length === 0) return;
    for (const pending of queued) pending.state = 'settled';
    this.#dequeue(queued);
    this.#clearLatencyTimer();
    for (const pending of queued) {
      this.#options.observer?.rejected('stuck');
      this.#finish(pending, undefined, this.#slots.refusal());
    }
  }

  #cancel(pending: Pending<J, R>): void {
    if (pending.state !== 'queued') return; // a batch already running finishes; its result goes nowhere
    this.#remove(pending);
    this.#options.observer?.rejected('cancelled');
    this.#finish(pending, undefined, cancelled(this.#options.label));
  }

  /** Takes a queued job out for good (deadline, cancellation) and lets the queue re-plan: the head may have changed. */
  #remove(pending: Pending<J, R>): void {
    pending.state = 'settled';
    this.#dequeue([pending]);
    this.#schedule();
  }
}

function cancelled(label: string): RequestCancelledError {
  return new RequestCancelledError(`the client closed the connection while its request waited in the queue of ${label}`);
}
