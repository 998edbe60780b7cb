/**
 * What a ServedModel is built with (the registry's assembly of one config entry), and what each call carries.
 */
import type { Logger } from 'pino';
import type { BatchObserver } from '../batching/batcher.js';
import type { ServingSettings } from '../config/serving.js';
import type { NamedDecorator } from '../decorators/chain.js';
import type { ModelObserver } from '../metrics/catalogue.js';
import type { PredictionRecorder } from '../monitoring/events.js';
import type { ModelExample } from './contract.js';
import type { ServedMetadata } from './metadata.js';

export interface ServedModelOptions {
  readonly metadata: ServedMetadata;
  readonly createEndpoint: boolean;
  readonly required: boolean;
  readonly logger: Logger;
  /** Batching, limits and timeout; without it, calls run one by one with no limit or deadline. */
  readonly serving?: ServingSettings;
  /** Receives the queue's measurements (the metrics catalogue). */
  readonly observer?: BatchObserver;
  /** Receives each call's outcome and the load time (the metrics catalogue). */
  readonly modelObserver?: ModelObserver;
  /** The prediction log (model monitoring), when it is on for this model. */
  readonly recorder?: PredictionRecorder;
  /** Wrappers around predict, outermost first (docs/decorators.md). */
  readonly decorators?: readonly NamedDecorator[];
  /** Self-tests from the config entry, run after the model's own (docs/self-tests.md). */
  readonly examples?: readonly ModelExample[];
}

/** Without serving settings: calls run one by one with no limit or deadline. */
export const UNLIMITED: ServingSettings = {
  policy: 'off',
  maxBatchSize: 1,
  maxLatencyMs: 0,
  maxQueueSize: Number.POSITIVE_INFINITY,
  maxConcurrency: Number.POSITIVE_INFINITY,
  timeoutMs: 0,
  warmup: 1,
};
