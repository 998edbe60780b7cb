/**
 * One model's prediction log: samples calls, holds the sampled events in a bounded buffer, and writes them in batches
 * (batch_size records, or whatever is there after flush_interval_ms) to the destination. A failed write keeps its
 * records buffered and is retried with backoff; while the buffer is full, new records are dropped and counted. Nothing
 * here runs inside a prediction except wants() and record(), which only sample, push and arm a timer.
 */
import type { Logger } from 'pino';
import type { PredictionEvent, PredictionRecorder } from './events.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffSettings } from './backoff.js';
import { writtenBefore, type Destination } from './destination.js';
import type { PredictionLogCounters } from './metrics.js';
import { createSampler, type Sampler } from './sampler.js';
import { serializeEvent } from './serialize.js';
import type { PredictionLogSettings } from './settings.js';

export interface PredictionLogOptions {
  readonly model: string;
  readonly settings: PredictionLogSettings;
  readonly destination: Destination;
  readonly counters: PredictionLogCounters;
  readonly logger: Logger;
  readonly backoff?: BackoffSettings;
  readonly random?: () => number;
}

interface Entry {
  readonly event: PredictionEvent;
  /** The JSON text, once serialized (kept across retries). */
  text?: string;
}

export class PredictionLog implements PredictionRecorder {
  readonly model: string;
  readonly #settings: PredictionLogSettings;
  readonly #destination: Destination;
  readonly #counters: PredictionLogCounters;
  readonly #logger: Logger;
  readonly #backoff: BackoffSettings;
  readonly #random: () => number;
  readonly #sample: Sampler;
  /** Records not yet written, oldest first; a batch being written stays here until it is written. */
  #pending: Entry[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #kick: NodeJS.Immediate | undefined;
  #writing: Promise<boolean> | undefined;
  /** Failed writes in a row (0 while the destination works). */
  #failures = 0;
  /** The wait before the next retry, drawn when a write fails. */
  #nextDelay = 0;
  /** Whether records were dropped for a full buffer since the last successful write (logged once per episode). */
  #dropping = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: PredictionLogOptions) {
    this.model = options.model;
    this.#settings = options.settings;
    this.#destination = options.destination;
    this.#counters = options.counters;
    this.#logger = options.logger;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#random = options.random ?? Math.random;
    this.#sample = createSampler(options.settings.sampling, this.#random);
  }

  /** Records held now (waiting, being written or waiting for a retry). */
  get buffered(): number {
    return this.#pending.length;
  }

  wants(): boolean {
    return !this.#closed && this.#sample();
  }

  record(event: PredictionEvent): void {
    try {
      if (this.#closed) {
        this.#counters.dropped.shutdown.value++;
        return;
      }
      if (this.#pending.length >= this.#settings.maxBuffer) {
        this.#counters.dropped.buffer_full.value++;
        if (!this.#dropping) {
          this.#dropping = true;
          this.#logger.warn({ max_buffer: this.#settings.maxBuffer, destination: this.#destination.type }, 'prediction log buffer is full; new records are dropped until the destination catches up');
        }
        return;
      }
      this.#pending.push({ event });
      this.#schedule();
    } catch {
      // The log must never fail a prediction.
    }
  }

  /** Starts a write soon when a batch is full, else makes sure the flush timer runs; nothing while writing or backing off. */
  #schedule(): void {
    if (this.#writing || this.#retryTimer || this.#kick) return;
    if (this.#pending.length >= this.#settings.batchSize) {
      // Not now: the caller is a prediction finishing, and serializing a batch is not its work.
      this.#kick = setImmediate(() => {
        this.#kick = undefined;
        void this.#run();
      }).unref();
    } else if (!this.#flushTimer && this.#pending.length > 0) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        void this.#run();
      }, this.#settings.flushIntervalMs).unref();
    }
  }

  /** Writes batches while full ones are waiting; after a failure, arms the retry. */
  async #run(): Promise<void> {
    if (this.#closed || this.#writing) return;
    this.#clearFlushTimer();
    while (this.#pending.length > 0 && !this.#closed) {
      const ok = await this.#writeOnce();
      if (this.#closed) return;
      if (!ok) {
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          void this.#run();
        }, this.#nextDelay).unref();
        return;
      }
      if (this.#pending.length < this.#settings.batchSize) break;
    }
    this.#schedule();
  }

  /** Writes the oldest batch once; true when it was written. */
  #writeOnce(): Promise<boolean> {
    const writing = this.#write().finally(() => {
      this.#writing = undefined;
    });
    this.#writing = writing;
    return writing;
  }

  async #write(): Promise<boolean> {
    const texts = this.#serializeBatch();
    if (texts.length === 0) return true;
    try {
      await this.#destination.write(texts);
    } catch (error) {
      const written = Math.min(writtenBefore(error), texts.length);
      this.#pending.splice(0, written);
      this.#counters.written.value += written;
      this.#counters.failures.value++;
      this.#failures++;
      this.#nextDelay = backoffDelay(this.#failures, this.#backoff, this.#random);
      this.#logger.warn(
        {
          err: error,
          destination: this.#destination.type,
          attempt: this.#failures,
          buffered: this.#pending.length,
          retry_in_ms: this.#nextDelay,
        },
        'prediction log write failed; the records stay buffered and are retried',
      );
      return false;
    }
    this.#pending.splice(0, texts.length);
    this.#counters.written.value += texts.length;
    if (this.#failures > 0) this.#logger.info({ destination: this.#destination.type, failed_attempts: this.#failures }, 'prediction log destination is writable again');
    this.#failures = 0;
    this.#dropping = false;
    return true;
  }

  /**
   * The JSON texts of the oldest batch_size records, serializing those not done yet. A record JSON cannot carry is
   * removed, counted and logged, so it never blocks the ones after it.
   */
  #serializeBatch(): string[] {
    const texts: string[] = [];
    let index = 0;
    while (index < this.#pending.length && texts.length < this.#settings.batchSize) {
      const entry = this.#pending[index] as Entry;
      if (entry.text === undefined) {
        try {
          entry.text = serializeEvent(entry.event, this.#settings.include);
        } catch (error) {
          this.#pending.splice(index, 1);
          this.#counters.dropped.serialization_error.value++;
          this.#logger.warn({ err: error, request_id: entry.event.requestId }, 'a prediction could not be written to the prediction log as JSON; it was dropped');
          continue;
        }
      }
      texts.push(entry.text);
      index++;
    }
    return texts;
  }

  /**
   * Stops sampling and writes what is buffered, retrying a failing destination until `waitMs` has passed; what is
   * still unwritten then is dropped (counted, reason shutdown). Closes the destination. Idempotent.
   */
  close(waitMs: number): Promise<void> {
    this.#closing ??= this.#close(waitMs);
    return this.#closing;
  }

  async #close(waitMs: number): Promise<void> {
    this.#closed = true;
    this.#clearFlushTimer();
    if (this.#kick) clearImmediate(this.#kick);
    this.#kick = undefined;
    const deadline = performance.now() + waitMs;
    const left = () => deadline - performance.now();
    while (this.#pending.length > 0 && left() > 0) {
      if (this.#retryTimer) {
        clearTimeout(this.#retryTimer);
        this.#retryTimer = undefined;
      }
      const ok = await within(this.#writing ?? this.#writeOnce(), left());
      if (ok === false && left() > 0) await sleep(Math.min(this.#nextDelay, left()));
    }
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const lost = this.#pending.length;
    if (lost > 0) {
      this.#counters.dropped.shutdown.value += lost;
      this.#pending = [];
      this.#logger.error({ dropped: lost, destination: this.#destination.type, wait_ms: waitMs }, 'prediction log records still unwritten at shutdown were dropped');
    }
    await within(this.#destination.close(), Math.max(left(), 100));
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }
}

/** The promise's value, or undefined when `ms` pass first (the promise runs on; its rejection is ignored). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
