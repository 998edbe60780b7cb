/**
 * The cluster's primary: serves no HTTP and loads no model. It forks one worker per slot (node:cluster re-runs this
 * command, which sees cluster.isWorker), logs each worker's start and exit, restarts a worker that exited on its own
 * (with backoff), answers the workers' metrics requests and keeps their readiness board, and on SIGTERM/SIGINT drains
 * every worker (SIGTERM: each runs its own graceful close), waits for them (bounded) and exits 0. SIGHUP goes on to every
 * worker, which reloads its config.
 */
import cluster, { type Address, type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { flushLogger } from '../logging/logger.js';
import { isWorkerMessage, type MetricsRequest, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { MetricsCollector } from './metrics-aggregate.js';
import { ReadinessBoard } from './readiness.js';
import { RestartBackoff } from './restart-backoff.js';

/** On shutdown, how long past server.drain_delay_ms the primary waits for the workers before killing them. */
export const SHUTDOWN_GRACE_MS = 30_000;

export interface PrimaryOptions {
  readonly processes: number;
  readonly logger: Logger;
  /** server.drain_delay_ms: each worker waits this long before closing, so the primary waits for it too. */
  readonly drainDelayMs: number;
}

/** One of the N places a worker runs in; a restarted worker takes its predecessor's slot. */
interface Slot {
  readonly index: number;
  readonly backoff: RestartBackoff;
  worker?: Worker;
  startedAt: number;
  /** Some worker of this slot has listened: a later failure is a crash to restart, not a failed start. */
  everListened: boolean;
  restartTimer?: NodeJS.Timeout;
}

export class ClusterPrimary {
  readonly #slots: Slot[];
  readonly #slotOf = new Map<Worker, Slot>();
  /** Workers whose channel is open (they sent their first readiness): asked for metrics. */
  readonly #joined = new Set<Worker>();
  readonly #board: ReadinessBoard;
  readonly #metrics = new MetricsCollector((worker, message) => this.#send(worker, message));
  #announced = false;
  #stopping = false;
  #exitCode = 0;
  #shutdownTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PrimaryOptions) {
    this.#slots = Array.from({ length: options.processes }, (_, index) => ({ index, backoff: new RestartBackoff(), startedAt: 0, everListened: false }));
    this.#board = new ReadinessBoard(options.processes, (view) => this.#broadcast(view), options.logger);
  }

  start(): void {
    const { logger } = this.options;
    logger.info({ processes: this.options.processes }, 'cluster starting');
    cluster.on('message', (worker, message: unknown) => {
      if (isWorkerMessage(message)) this.#received(worker, message);
    });
    cluster.on('listening', (worker, address) => this.#listening(worker, address));
    cluster.on('exit', (worker, code, signal) => this.#exited(worker, code, signal));
    for (const slot of this.#slots) this.#fork(slot);
    const onSignal = (signal: NodeJS.Signals) => this.stop(`received ${signal}`);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // Each worker reloads its own models, without downtime (docs/model-repository.md): the signal goes on to all.
    // A worker still starting has no handler yet (SIGHUP would end it), and reads the config as it is now anyway.
    process.on('SIGHUP', () => {
      const joined = this.#running().filter((worker) => this.#joined.has(worker));
      this.options.logger.info({ workers: joined.length }, 'SIGHUP: every worker reloads the config');
      for (const worker of joined) worker.process.kill('SIGHUP');
    });
  }

  /** Drains every worker and exits (0, or the code of a failed start) once all have exited. Idempotent. */
  stop(reason: string, exitCode = 0): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#exitCode = exitCode;
    const { logger } = this.options;
    logger.info({ reason }, 'shutting down: draining every worker');
    this.#board.stopping();
    for (const slot of this.#slots) clearTimeout(slot.restartTimer);
    for (const worker of this.#running()) worker.process.kill('SIGTERM');
    const waitMs = this.options.drainDelayMs + SHUTDOWN_GRACE_MS;
    this.#shutdownTimer = setTimeout(() => {
      const left = this.#running();
      logger.error({ worker_pids: left.map((worker) => worker.process.pid), wait_ms: waitMs }, 'workers did not stop in time; killing them');
      for (const worker of left) worker.process.kill('SIGKILL');
      this.#exitCode = 1;
    }, waitMs);
    this.#finishIfDone();
  }

  #fork(slot: Slot): void {
    slot.restartTimer = undefined;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.startedAt = performance.now();
    this.#slotOf.set(worker, slot);
    // A send to a worker that is going away reports its error here instead of crashing the primary.
    worker.on('error', (error: Error) => this.options.logger.debug({ err: error, worker_pid: worker.process.pid }, 'worker channel error'));
    const pid = worker.process.pid ?? 0;
    this.#board.added(pid);
    this.options.logger.info({ worker_pid: pid, slot: slot.index }, 'worker started');
  }

  #listening(worker: Worker, address: Address): void {
    const slot = this.#slotOf.get(worker);
    if (slot) slot.everListened = true;
    if (this.#announced) return;
    this.#announced = true;
    const host = address.address?.includes(':') ? `[${address.address}]` : (address.address ?? 'localhost');
    this.options.logger.info({ url: `http://${host}:${address.port}`, processes: this.options.processes }, 'cluster listening');
  }

  #exited(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.#slotOf.get(worker);
    this.#slotOf.delete(worker);
    this.#joined.delete(worker);
    this.#metrics.exited(worker);
    const pid = worker.process.pid ?? 0;
    this.#board.removed(pid);
    if (!slot || slot.worker !== worker) return;
    slot.worker = undefined;
    const uptimeMs = Math.round(performance.now() - slot.startedAt);
    const { logger } = this.options;
    const details = { worker_pid: pid, slot: slot.index, code, signal, uptime_ms: uptimeMs };
    if (this.#stopping) {
      logger.info(details, 'worker exited');
      this.#finishIfDone();
    } else if (!slot.everListened) {
      // It never listened: the config, a model's module or the port is wrong, and a restart would fail the same way.
      logger.error(details, 'worker failed to start; stopping the cluster');
      this.stop('a worker failed to start', code !== null && code > 0 ? code : 1);
    } else {
      const delay = slot.backoff.next(uptimeMs);
      logger.warn({ ...details, restart_in_ms: delay }, 'worker exited unexpectedly; restarting it');
      slot.restartTimer = setTimeout(() => this.#fork(slot), delay);
    }
  }

  #received(worker: Worker, message: WorkerMessage): void {
    switch (message.type) {
      case 'longshore:ready':
        this.#joined.add(worker);
        this.#board.reported(worker.process.pid ?? 0, message.ready);
        return;
      case 'longshore:metrics-request':
        this.#answerMetrics(worker, message);
        return;
      case 'longshore:metrics-part':
        this.#metrics.received(worker, message);
    }
  }

  #answerMetrics(worker: Worker, request: MetricsRequest): void {
    this.#metrics.collect([...this.#joined]).then(
      (text) => this.#send(worker, { type: 'longshore:metrics-response', id: request.id, text }),
      (error: unknown) => {
        this.options.logger.warn({ err: error }, 'cluster metrics could not be collected');
        this.#send(worker, { type: 'longshore:metrics-response', id: request.id, error: (error as Error).message });
      },
    );
  }

  #broadcast(message: PrimaryMessage): void {
    for (const worker of this.#running()) this.#send(worker, message);
  }

  /** Sends to a worker whose channel is open; false otherwise (it is exiting). */
  #send(worker: Worker, message: PrimaryMessage): boolean {
    if (!worker.isConnected()) return false;
    worker.send(message, undefined, () => {});
    return true;
  }

  #running(): Worker[] {
    return this.#slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  }

  #finishIfDone(): void {
    if (!this.#stopping || this.#running().length > 0) return;
    clearTimeout(this.#shutdownTimer);
    const { logger } = this.options;
    logger.info({ code: this.#exitCode }, 'cluster stopped');
    const exitCode = this.#exitCode;
    void flushLogger(logger).finally(() => process.exit(exitCode));
  }
}
