/**
 * The signals the batcher passes around: a queued job's CancelSignal (its client went away), and a running batch's
 * RunStop (nobody waits for its results any more, so a runtime that can end the call should).
 */

/**
 * Tells a queued job its client went away; the same shape as the public `CallSignal` (model/contract.ts). Not an
 * AbortSignal: an EventTarget listener costs µs per request (7 of an 8 µs submit); a job needs one, set and cleared once.
 */
export interface CancelSignal {
  readonly cancelled: boolean;
  /** Sets (or clears, with undefined) the one listener called when the signal is cancelled. */
  onCancel(listener: (() => void) | undefined): void;
}

/** A CancelSignal to cancel by hand (the HTTP layer cancels it when the connection closes early). */
export class Cancellation implements CancelSignal {
  #cancelled = false;
  #listener: (() => void) | undefined;

  get cancelled(): boolean {
    return this.#cancelled;
  }

  onCancel(listener: (() => void) | undefined): void {
    this.#listener = listener;
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }
}

/**
 * Handed to every run of a batch: stops once every caller in the batch has been answered because its deadline passed,
 * so its result would go nowhere. A runtime that can end a call (a worker thread, which is terminated) reads `signal`;
 * a main-thread call cannot be ended and keeps its slot until it settles (the batcher counts it as stuck).
 */
export class RunStop {
  #stopped = false;
  #reason: Error | undefined;
  /** Made on the first read of `signal`: most runs finish in time and never need one (an AbortController costs µs). */
  #controller: AbortController | undefined;

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Aborts when the run is stopped (already aborted when read after the stop). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#stopped) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  stop(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reason = new Error(reason);
    this.#controller?.abort(this.#reason);
  }
}
