/** Retry delays for a failing destination: exponential from `initialMs`, capped at `maxMs`, with jitter. */

export interface BackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { initialMs: 100, maxMs: 10_000 };

/**
 * The wait before retry number `attempt` (1 for the first retry): the step doubles from initialMs up to maxMs, and the
 * wait is drawn from the upper half of the step, so servers that failed together do not retry together.
 */
export function backoffDelay(attempt: number, settings: BackoffSettings = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const step = Math.min(settings.maxMs, settings.initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(step / 2 + (random() * step) / 2);
}
