/**
 * The eager batcher: concurrent calls to one model are coalesced into one run. It never waits for a batch to fill:
 * what is queued when the model is idle runs at the next turn of the event loop, and calls arriving while a batch runs
 * form the next one. No added latency at low load; large batches, and so far fewer model calls, under load. When a
 * run of several calls fails, each call is run again on its own, so a failure reaches only the caller that caused it.
 */
import { QueueFullError } from '../errors.js';

/** One caller's work: `rows` items that must come back in order, to this caller only. */
interface Pending<I, O> {
  readonly items: readonly I[];
  resolve(outputs: O[]): void;
  reject(error: unknown): void;
}

export interface EagerBatcherOptions {
  /** Most rows in one run. A single call with more rows still runs, alone. */
  readonly maxBatchSize: number;
  /** Most rows waiting (not counting a run in flight); a call that would go beyond is refused at once. */
  readonly maxQueueSize?: number;
}

/** Seconds a refused caller is told to wait: a queue drains within a few runs. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 1;

export class EagerBatcher<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #maxBatchSize: number;
  readonly #maxQueueSize: number;
  #queue: Pending<I, O>[] = [];
  #queuedRows = 0;
  #scheduled = false;
  #running = false;

  /** `run` computes outputs for items, one output per item, in order. */
  constructor(run: (items: I[]) => Promise<O[]>, options: EagerBatcherOptions) {
    if (!Number.isInteger(options.maxBatchSize) || options.maxBatchSize < 1) throw new RangeError('maxBatchSize must be a positive integer');
    this.#run = run;
    this.#maxBatchSize = options.maxBatchSize;
    this.#maxQueueSize = options.maxQueueSize ?? Number.POSITIVE_INFINITY;
  }

  /** Number of calls waiting (not counting a batch that is running). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues `items` as one call; resolves with exactly their outputs, in their order. */
  submit(items: readonly I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    // Never queue without bound; an empty queue always takes a call, however large, so it can run alone.
    if (this.#queuedRows > 0 && this.#queuedRows + items.length > this.#maxQueueSize) {
      return Promise.reject(
        new QueueFullError(
          `the model's queue is full (${this.#queuedRows} rows waiting, batching.max_queue_size ${this.#maxQueueSize}); retry shortly`,
          { retryAfterSeconds: QUEUE_FULL_RETRY_AFTER_SECONDS },
        ),
      );
    }
    return new Promise<O[]>((resolve, reject) => {
      this.#queue.push({ items, resolve, reject });
      this.#queuedRows += items.length;
      this.#schedule();
    });
  }

  // setImmediate, not a microtask: calls whose requests were read in the same I/O phase all join before it runs.
  #schedule(): void {
    if (this.#scheduled || this.#running || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#take();
    this.#running = true;
    try {
      const items = batch.flatMap((call) => call.items);
      const outputs = await this.#run(items);
      if (outputs.length !== items.length) throw new Error(`a batch of ${items.length} rows produced ${outputs.length} outputs`);
      let offset = 0;
      for (const call of batch) {
        call.resolve(outputs.slice(offset, offset + call.items.length));
        offset += call.items.length;
      }
    } catch (error) {
      if (batch.length === 1) batch[0]?.reject(error);
      else await this.#isolate(batch);
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }

  /**
   * A run of several calls failed: run each call on its own, so one caller's bad row (e.g. an index a Gather cannot
   * take) fails only that caller.
   */
  async #isolate(batch: readonly Pending<I, O>[]): Promise<void> {
    for (const call of batch) {
      try {
        const outputs = await this.#run([...call.items]);
        if (outputs.length !== call.items.length) throw new Error(`a batch of ${call.items.length} rows produced ${outputs.length} outputs`);
        call.resolve(outputs);
      } catch (error) {
        call.reject(error);
      }
    }
  }

  /** Takes calls from the head of the queue while they fit in maxBatchSize rows (always at least one call). */
  #take(): Pending<I, O>[] {
    let rows = 0;
    let count = 0;
    for (const call of this.#queue) {
      if (count > 0 && rows + call.items.length > this.#maxBatchSize) break;
      rows += call.items.length;
      count++;
    }
    this.#queuedRows -= rows;
    return this.#queue.splice(0, count);
  }
}
