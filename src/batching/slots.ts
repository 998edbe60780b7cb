/**
 * The batcher's concurrency slots (`max_concurrency`): the batches running, and among them the stuck ones. A batch is
 * stuck when every caller in it has already been answered 504 because its deadline passed, and the model's call is
 * still running STUCK_GRACE_MS later (a call that overruns by a few milliseconds is slow, not stuck). It keeps its slot
 * until the call settles (a late result is dropped): a call on the main thread cannot be killed. Its RunStop is stopped
 * at that moment, so a runtime that can end the call (a worker thread, terminated and replaced) does, which frees the
 * slot within milliseconds: within a second of the deadline in all.
 *
 * While every slot is stuck the model cannot run anything: the queue refuses new jobs with 503 ModelNotReadyError
 * (instead of queueing them into a 504) and readiness says why, until a stuck call settles.
 */
import { ModelNotReadyError } from '../errors.js';
import { RunStop } from '../call-context.js';

/** Seconds a caller refused because every slot is stuck is told to wait: a call past its deadline rarely ends at once. */
export const STUCK_RETRY_AFTER_SECONDS = 5;

/** How long a call may run on after the deadline of its last caller before it counts as stuck (and is stopped). */
export const STUCK_GRACE_MS = 500;

/**
 * One batch holding a slot. It is also the RunStop handed to the batch's run (one object per batch, not two): stopped
 * exactly when the batch becomes stuck, so `stopped` is its stuck flag.
 */
export class RunningBatch extends RunStop {
  /** Jobs whose caller still waits for this run's result. */
  waiting: number;
  ended = false;
  /** Runs out STUCK_GRACE_MS after the last caller was answered. */
  grace: NodeJS.Timeout | undefined;

  constructor(jobs: number) {
    super();
    this.waiting = jobs;
  }
}

export class Slots {
  #running = 0;
  #stuck = 0;

  /**
   * @param max most batches running at once (Infinity: no limit)
   * @param label names the queue in messages (`model 'iris'`)
   * @param onStuck told the number of stuck batches after every change (the metric; the batcher's queue)
   */
  constructor(
    readonly max: number,
    private readonly label: string,
    private readonly onStuck: (stuck: number) => void,
  ) {}

  /** Batches running now, stuck ones included. */
  get running(): number {
    return this.#running;
  }

  /** A batch may start now. */
  get free(): boolean {
    return this.#running < this.max;
  }

  /** Every slot is held by a stuck batch: nothing can run until one settles. */
  get allStuck(): boolean {
    return this.#stuck > 0 && this.#stuck >= this.max;
  }

  /** Takes a slot for a batch of `jobs` jobs. */
  begin(jobs: number): RunningBatch {
    this.#running++;
    return new RunningBatch(jobs);
  }

  /**
   * A job of the running `batch` was answered before the batch ended (its deadline passed). Once no caller waits, the
   * batch has STUCK_GRACE_MS to end; then it is stuck and its run is told to stop.
   */
  answered(batch: RunningBatch): void {
    if (batch.ended || batch.grace !== undefined || --batch.waiting > 0) return;
    batch.grace = setTimeout(() => this.#stick(batch), STUCK_GRACE_MS);
    batch.grace.unref();
  }

  #stick(batch: RunningBatch): void {
    if (batch.ended) return;
    this.#stuck++;
    this.onStuck(this.#stuck);
    batch.stop(`every caller of this call of ${this.label} was answered at its deadline; its result would be dropped`);
  }

  /** The batch's run settled: its slot is free. */
  end(batch: RunningBatch): void {
    if (batch.ended) return;
    batch.ended = true;
    if (batch.grace !== undefined) clearTimeout(batch.grace);
    this.#running--;
    if (batch.stopped) {
      // it was stuck (#stick stops it)
      this.#stuck--;
      this.onStuck(this.#stuck);
    }
  }

  /** Why the queue cannot run anything (every slot stuck), e.g. `model 'x': 2 of 2 calls stuck past their deadline`. */
  problem(): string | undefined {
    if (!this.allStuck) return undefined;
    return `${this.label}: ${this.#stuck} of ${this.max} calls stuck past their deadline`;
  }

  /** The 503 for a job refused (or dropped from the queue) while every slot is stuck. */
  refusal(): ModelNotReadyError {
    return new ModelNotReadyError(
      `${this.label} is not ready: ${this.#stuck} of ${this.max} calls are stuck past their deadline and hold every concurrency slot ` +
        `(max_concurrency ${this.max}); the model must finish or fail them before it can take more; retry later`,
      { retryAfterSeconds: STUCK_RETRY_AFTER_SECONDS },
    );
  }
}
