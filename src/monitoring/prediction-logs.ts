/**
 * Every prediction log of one server: builds a model's log from the merged settings (sharing file and stdout
 * destinations between models), registers the log metrics once, and closes every log at shutdown.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DestinationPool } from './destination.js';
import { PredictionLogMetrics } from './metrics.js';
import { PredictionLog } from './prediction-log.js';
import type { ResolvedMonitoring } from '../config/monitoring-defaults.js';
import { predictionLogSettings } from './settings.js';

/** How long shutdown waits for buffered records to be written (a down http receiver is retried meanwhile). */
export const SHUTDOWN_WAIT_MS = 5000;

export interface PredictionLogsOptions {
  readonly registry: Registry;
  readonly logger: Logger;
  /** The config file's directory, for relative file paths. */
  readonly configDir: string;
  /** Label the log's metrics with the model (metrics.model_labels). */
  readonly modelLabels: boolean;
}

export class PredictionLogs {
  readonly #options: PredictionLogsOptions;
  readonly #pool = new DestinationPool();
  readonly #logs: PredictionLog[] = [];
  readonly #byModel = new Map<string, PredictionLog>();
  #metrics: PredictionLogMetrics | undefined;

  constructor(options: PredictionLogsOptions) {
    this.#options = options;
  }

  get logs(): readonly PredictionLog[] {
    return this.#logs;
  }

  /** The log of one model, or undefined when its merged settings leave the prediction log off. */
  forModel(model: string, monitoring: ResolvedMonitoring): PredictionLog | undefined {
    const settings = predictionLogSettings(monitoring, this.#options.configDir);
    if (!settings) return undefined;
    // The versions of a model, and the model built again by a reload, share its log while its settings stay the same.
    const key = `${model}\u0000${JSON.stringify(settings)}`;
    const existing = this.#byModel.get(key);
    if (existing) return existing;
    // Registered with the first enabled log, so a server without a prediction log shows none of its metrics.
    this.#metrics ??= new PredictionLogMetrics(this.#options.registry, this.#options.modelLabels);
    const metrics = this.#metrics;
    const destination = this.#pool.open(settings.destination);
    const logger = this.#options.logger.child({ model, component: 'prediction_log' });
    const counters = metrics.countersFor(model, settings.destination.type);
    const log = new PredictionLog({ model, settings, destination, counters, logger });
    metrics.watchBuffered(model, () => log.buffered);
    this.#byModel.set(key, log);
    this.#logs.push(log);
    logger.info(
      {
        destination: settings.destination.type,
        ...(settings.destination.type === 'file' ? { path: settings.destination.path } : {}),
        ...(settings.destination.type === 'http' ? { url: settings.destination.url } : {}),
        sampling: settings.sampling,
        include: settings.include,
      },
      'prediction log on',
    );
    return log;
  }

  /** Writes what every log still holds (within `waitMs` in all) and closes their destinations. */
  async closeAll(waitMs: number = SHUTDOWN_WAIT_MS): Promise<void> {
    await Promise.all(this.#logs.map((log) => log.close(waitMs)));
  }
}
