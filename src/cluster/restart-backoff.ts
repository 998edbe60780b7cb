/**
 * How long the primary waits before restarting a worker that exited on its own: 100 ms, doubling on each crash up to
 * 10 s, back to 100 ms once a worker has stayed up for 30 s. No jitter: one primary restarts its own workers.
 */

export interface RestartBackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A worker up at least this long counts as healthy: the next crash starts again from initialMs. */
  readonly resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoffSettings = { initialMs: 100, maxMs: 10_000, resetAfterMs: 30_000 };

/** The restart delays of one worker slot. */
export class RestartBackoff {
  #nextMs: number;

  constructor(private readonly settings: RestartBackoffSettings = DEFAULT_RESTART_BACKOFF) {
    this.#nextMs = settings.initialMs;
  }

  /** The wait before restarting a worker that ran for `uptimeMs` and exited. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.settings.resetAfterMs) this.#nextMs = this.settings.initialMs;
    const delay = this.#nextMs;
    this.#nextMs = Math.min(delay * 2, this.settings.maxMs);
    return delay;
  }
}
