/**
 * What a model call knows about its caller (CallContext, public: re-exported by model/contract.ts), and how a call is
 * cancelled: a queued job's CallSignal (its client went away; `Cancellation` cancels one by hand) and a running batch's
 * RunStop (nobody waits for its results any more, so a runtime that can end the call should). Imports only the tracing
 * and timing types: every layer may use it.
 */
import type { TraceSpan } from './tracing/span.js';
import type { CallTiming } from './tracing/timing.js';

/** What a model call knows about its caller. Every field is optional: a call from a self-test has none. */
export interface CallContext {
  /** The client's deadline in milliseconds (the shorter of it and the model's `timeout_ms` applies). */
  readonly timeoutMs?: number;
  /** Cancelled when the client goes away, so queued work for it is dropped. */
  readonly signal?: CallSignal;
  /** The HTTP request id. */
  readonly requestId?: string;
  /** The request's headers, names in lower case (a router graph picks a member by one). */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  /** The call is a self-test (docs/self-tests.md): decorators must not answer it from a cache. */
  readonly selfTest?: boolean;
  /**
   * The call is the server warming its HTTP routes before it reports ready (docs/self-tests.md#warmup): it counts in no
   * metric and no prediction log.
   */
  readonly warmup?: boolean;
  /**
   * The span this call's steps are traced under (docs/tracing.md): the request's, or a decorator's or graph member's
   * inside it. Absent while tracing is off, and for a call no request started.
   */
  readonly span?: TraceSpan;
  /**
   * Where this request's time goes (docs/timing.md), filled in by the queue: present only when the request asked for
   * it (`x-longshore-timing: 1`) or `server.timing_headers` is true. A model has no use for it.
   */
  readonly timing?: CallTiming;
}

/**
 * Tells a call that its client went away (`CallContext.signal`). A model doing long work on one call can poll
 * `cancelled` to stop early.
 */
export interface CallSignal {
  /** True once the client has gone away. */
  readonly cancelled: boolean;
  /**
   * Sets (or clears, with undefined) the one listener called when the signal is cancelled. longshore's queue sets it
   * while the call waits; a model should not, or the queue no longer hears of the cancellation.
   */
  onCancel(listener: (() => void) | undefined): void;
}

/**
 * The batcher's name for a CallSignal: tells a queued job its client went away. Not an
 * AbortSignal: an EventTarget listener costs µs per request (7 of an 8 µs submit); a job needs one, set and cleared once.
 */
export type CancelSignal = CallSignal;

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
