/**
 * Per-request timing (docs/timing.md): where one request's time went, as the `Server-Timing` response header and the
 * prediction log's `timing` object show it. A `CallTiming` exists only for a request that asked for it (or with
 * `server.timing_headers: true`); it rides in `CallContext.timing` to the batcher, which fills in the queue wait, the
 * batch and the model call at the points where it already traces them (batch-trace.ts). With timing off no
 * CallTiming exists and every hook point is one `timing !== undefined` check. Times are `performance.now()` readings.
 */

/** One request's figures, filled in as it goes: by the route (decode start, body parse, encode) and the batcher. */
export class CallTiming {
  /** performance.now() when the handler began turning the body into the model's input. */
  readonly decodeStart: number;
  /** Milliseconds spent parsing the body before the handler (REST JSON); 0 when the route reads it itself. */
  readonly parseMs: number;
  /** performance.now() when the request's first job entered its model's queue (the end of decoding). */
  enqueued: number | undefined;
  /** The batch that served the request: its per-model counter, its rows and when it started. */
  batchId: number | undefined;
  batchSize: number | undefined;
  batchStarted: number | undefined;
  /** Milliseconds waiting in the queue until its batch started. */
  queueMs: number | undefined;
  /** Milliseconds of the model call of that batch (the whole batch's run). */
  modelMs: number | undefined;
  /** Milliseconds writing the answer (set by the route, after the prediction log's record was made). */
  encodeMs: number | undefined;

  constructor(decodeStart: number, parseMs = 0) {
    this.decodeStart = decodeStart;
    this.parseMs = parseMs;
  }

  /** Decoding: the body parse, then from the handler's start to the queue (validation, records → tensors). */
  get decodeMs(): number | undefined {
    return this.enqueued === undefined ? undefined : this.parseMs + (this.enqueued - this.decodeStart);
  }

  /** The batcher queued a job of this request (only the first counts: decoding ends there). */
  queued(at: number): void {
    if (this.enqueued === undefined) this.enqueued = at;
  }

  /**
   * A batch holding a job of this request started; true when this batch is the one reported (the first to start: a
   * graph's member calls and a decorated /predictions' later records do not replace it).
   */
  batchStart(id: number, rows: number, enqueued: number, started: number): boolean {
    if (this.batchId !== undefined) return false;
    this.batchId = id;
    this.batchSize = rows;
    this.batchStarted = started;
    this.queueMs = started - enqueued;
    return true;
  }

  /** The reported batch's model call ended (its results, or its failure, reached this request). */
  batchEnd(at: number): void {
    if (this.batchStarted !== undefined && this.modelMs === undefined) this.modelMs = at - this.batchStarted;
  }
}

/** Milliseconds with at most 3 decimals (Server-Timing's `dur`, the prediction log's `*_ms`). */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * The `Server-Timing` value: `decode;dur=…, queue;dur=…, model;dur=…, encode;dur=…, batch;desc="id=… size=…",
 * total;dur=…`, leaving out what did not happen (a request refused before its queue has no queue, model or batch).
 */
export function serverTimingValue(timing: CallTiming, totalMs: number): string {
  const parts: string[] = [];
  const decode = timing.decodeMs;
  if (decode !== undefined) parts.push(`decode;dur=${roundMs(decode)}`);
  if (timing.queueMs !== undefined) parts.push(`queue;dur=${roundMs(timing.queueMs)}`);
  if (timing.modelMs !== undefined) parts.push(`model;dur=${roundMs(timing.modelMs)}`);
  if (timing.encodeMs !== undefined) parts.push(`encode;dur=${roundMs(timing.encodeMs)}`);
  if (timing.batchId !== undefined) parts.push(`batch;desc="id=${timing.batchId} size=${timing.batchSize}"`);
  parts.push(`total;dur=${roundMs(totalMs)}`);
  return parts.join(', ');
}
