/**
 * Readiness across the cluster. Each worker reports its own readiness (ModelRegistry.isReady) to the primary when it
 * changes; the primary keeps the board of running workers and broadcasts it; a worker answering a readiness probe
 * requires its own models ready (as without a cluster) and, from the board, every worker running and ready.
 * Liveness stays per process.
 */
import type { Logger } from 'pino';
import type { ClusterViewMessage, ReadyMessage, WorkerState } from './messages.js';

/** How often a worker looks at its own readiness (a loop over its models); a change is sent at once. */
export const READINESS_POLL_MS = 100;

/** The primary's side: which workers run and which are ready. `publish` sends the view to every worker. */
export class ReadinessBoard {
  readonly #workers = new Map<number, boolean>();
  #stopping = false;

  constructor(
    private readonly expected: number,
    private readonly publish: (view: ClusterViewMessage) => void,
    private readonly logger: Logger,
  ) {}

  /** A worker was forked: running, not ready. */
  added(pid: number): void {
    this.#workers.set(pid, false);
    this.#publish();
  }

  /** A worker exited. */
  removed(pid: number): void {
    if (this.#workers.delete(pid)) this.#publish();
  }

  /** A worker reported its readiness (its first report also means it now listens to the view: always publish). */
  reported(pid: number, ready: boolean): void {
    if (!this.#workers.has(pid)) return;
    const before = this.#workers.get(pid);
    this.#workers.set(pid, ready);
    if (before !== ready) {
      const readyWorkers = [...this.#workers.values()].filter(Boolean).length;
      this.logger.info({ worker_pid: pid, ready, ready_workers: readyWorkers, processes: this.expected }, 'worker readiness changed');
    }
    this.#publish();
  }

  /** The cluster is shutting down: every worker answers not ready from now on. */
  stopping(): void {
    this.#stopping = true;
    this.#publish();
  }

  view(): ClusterViewMessage {
    const workers: WorkerState[] = [...this.#workers].map(([pid, ready]) => ({ pid, ready }));
    return { type: 'longshore:cluster-view', expected: this.expected, workers, stopping: this.#stopping };
  }

  #publish(): void {
    this.publish(this.view());
  }
}

/**
 * A worker's side: the last view the primary sent. This worker's own entry counts too, so that every worker flips to
 * ready on the same broadcast rather than the one that became ready last flipping first.
 */
export class ClusterReadinessView {
  #view: ClusterViewMessage | undefined;

  update(view: ClusterViewMessage): void {
    this.#view = view;
  }

  /** Why the cluster is not ready in the primary's view; empty when every worker runs and is ready. */
  problems(): string[] {
    const view = this.#view;
    if (!view) return ['waiting for the cluster primary to report the other worker processes'];
    if (view.stopping) return ['the cluster is shutting down'];
    const problems: string[] = [];
    const missing = view.expected - view.workers.length;
    if (missing > 0) problems.push(`${missing} of ${view.expected} worker processes are not running`);
    for (const worker of view.workers) {
      if (!worker.ready) problems.push(`worker process ${worker.pid} is not ready`);
    }
    return problems;
  }
}

/**
 * Sends `isReady()` now and whenever it changes (looked at every `intervalMs`, on a timer that does not keep the
 * process alive). Returns a function that stops it.
 */
export function reportReadiness(isReady: () => boolean, send: (message: ReadyMessage) => void, intervalMs = READINESS_POLL_MS): () => void {
  let last: boolean | undefined;
  const check = () => {
    const ready = isReady();
    if (ready === last) return;
    last = ready;
    send({ type: 'longshore:ready', ready });
  };
  check();
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
