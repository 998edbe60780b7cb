/**
 * What happens around every call of a served model besides the call itself: counting it (and its failure reason) in
 * the model's metrics, and handing a sampled call to the prediction log with what the model's metricsFor() says.
 */
import type { Logger } from 'pino';
import { LongshoreError } from '../errors.js';
import type { ModelObserver, ModelOperation } from '../metrics/catalogue.js';
import type { PredictionRecorder, PredictionTiming } from '../monitoring/events.js';
import { roundMs, type CallTiming } from '../tracing/timing.js';
import type { CallContext, Model } from './contract.js';

export interface CallObservationOptions {
  readonly model: Model;
  readonly name: string;
  readonly version: string;
  readonly logger: Logger;
  readonly modelObserver: ModelObserver | undefined;
  readonly recorder: PredictionRecorder | undefined;
}

export class CallObservation {
  constructor(private readonly options: CallObservationOptions) {}

  /** Runs `call`, counts it (and its failure reason), and hands a sampled call to the prediction log. */
  async observe<T>(operation: ModelOperation, inputs: unknown, context: CallContext, call: () => Promise<T>): Promise<T> {
    const { modelObserver, recorder } = this.options;
    const sampled = recorder?.wants() === true;
    const started = sampled ? performance.now() : 0;
    try {
      const outputs = await call();
      modelObserver?.called(operation);
      if (sampled) this.#record(operation, inputs, context, started, outputs, undefined);
      return outputs;
    } catch (error) {
      modelObserver?.called(operation, errorType(error));
      if (sampled) this.#record(operation, inputs, context, started, undefined, error);
      throw error;
    }
  }

  #record(operation: ModelOperation, inputs: unknown, context: CallContext, started: number, outputs: unknown, error: unknown): void {
    const { model, name, version, logger, recorder } = this.options;
    const latencyUs = Math.round((performance.now() - started) * 1000);
    let metrics: Record<string, number> | undefined;
    try {
      metrics = error === undefined ? model.metricsFor?.(inputs, outputs) : undefined;
    } catch (metricsError) {
      logger.warn({ err: metricsError }, 'metricsFor() threw; the prediction is logged without its metrics');
    }
    const failure = error === undefined ? undefined : { type: errorType(error), message: (error as Error).message ?? String(error) };
    recorder?.record({
      timestamp: Date.now() - latencyUs / 1000,
      ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
      model: name,
      version,
      operation,
      inputs,
      ...(failure ? { error: failure } : { outputs }),
      latencyUs,
      ...(metrics ? { metrics } : {}),
      ...(context.timing === undefined ? {} : { timing: loggedTiming(context.timing) }),
    });
  }
}

/** The record's `timing`: what is known when the call returns (encoding comes later, so it is not in the record). */
function loggedTiming(timing: CallTiming): PredictionTiming {
  const decode = timing.decodeMs;
  return {
    ...(decode === undefined ? {} : { decode_ms: roundMs(decode) }),
    ...(timing.queueMs === undefined ? {} : { queue_ms: roundMs(timing.queueMs) }),
    ...(timing.modelMs === undefined ? {} : { model_ms: roundMs(timing.modelMs) }),
    ...(timing.batchId === undefined ? {} : { batch_id: timing.batchId, batch_size: timing.batchSize }),
  };
}

/** The catalogue type of an error, `InternalError` for anything else. */
function errorType(error: unknown): string {
  return error instanceof LongshoreError ? error.type : 'InternalError';
}
