/**
 * A worker's end of the IPC channel to the primary: sends its messages, hands the primary's cluster views and metrics
 * collections to their handlers, and asks for the cluster's metrics (request → response by id, bounded).
 */
import { isPrimaryMessage, type ClusterViewMessage, type MetricsCollect, type MetricsPart, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { COLLECT_TIMEOUT_MS } from './metrics-aggregate.js';

/** The primary waits COLLECT_TIMEOUT_MS for the workers; a worker waits a little longer for the primary. */
export const METRICS_REQUEST_TIMEOUT_MS = COLLECT_TIMEOUT_MS + 2000;

export interface WorkerHandlers {
  /** The primary's view of the cluster changed. */
  readonly view: (view: ClusterViewMessage) => void;
  /** The primary collects this worker's metrics; the answer is sent back. */
  readonly collect: (request: MetricsCollect) => Promise<MetricsPart>;
}

interface Pending {
  readonly resolve: (text: string) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class WorkerChannel {
  #nextId = 0;
  readonly #pending = new Map<number, Pending>();

  /** Starts listening: from here on the process has a 'message' listener (node:cluster keeps a worker alive anyway). */
  constructor(private readonly handlers: WorkerHandlers) {
    process.on('message', (message: unknown) => {
      if (isPrimaryMessage(message)) this.#receive(message);
    });
  }

  /** Sends to the primary; a closed channel is ignored (node:cluster ends a worker whose primary is gone). */
  send(message: WorkerMessage): void {
    if (!process.connected) return;
    process.send?.(message, undefined, undefined, () => {});
  }

  /** The whole cluster's metrics in the Prometheus text format, from the primary. */
  requestMetrics(timeoutMs = METRICS_REQUEST_TIMEOUT_MS): Promise<string> {
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`the cluster primary did not answer the metrics request within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.send({ type: 'longshore:metrics-request', id });
    });
  }

  #receive(message: PrimaryMessage): void {
    switch (message.type) {
      case 'longshore:cluster-view':
        this.handlers.view(message);
        return;
      case 'longshore:metrics-collect':
        void this.handlers.collect(message).then((part) => this.send(part));
        return;
      case 'longshore:metrics-response': {
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.text !== undefined) pending.resolve(message.text);
        else pending.reject(new Error(`cluster metrics: ${message.error ?? 'no answer'}`));
      }
    }
  }
}
