/**
 * server.max_loaded_models (docs/many-models.md): at most N models of this process are loaded. The first N in the
 * registry's order load at start; the others are parked (served, not loaded) and load on their first call. A load that
 * would make N + 1 evicts the least recently used ready model first (ServedModel.evict: its calls in flight finish, then
 * it unloads, and it loads again on its next call). A model with calls in flight is evicted only when every candidate
 * has some; a model with calls waiting for its load on demand never is.
 *
 * Loads on demand are admitted one at a time (so two cannot both take the last slot); the load itself runs outside that
 * turn, and concurrent calls to one parked model share one load.
 */
import type { Logger } from 'pino';
import { ModelNotReadyError } from '../errors.js';
import type { OnDemandLoads } from './registry.js';
import type { ServedModel } from './served-model.js';

export interface LoadLimitOptions {
  /** server.max_loaded_models (≥ 1). */
  readonly max: number;
  /** The models of the registry, and whether it is shutting down. */
  readonly models: () => readonly ServedModel[];
  readonly draining: () => boolean;
  /** How long an evicted model's calls may take to finish before it unloads anyway (server.shutdown_timeout_ms). */
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  /** Counts an eviction (longshore_model_evictions_total). */
  readonly evicted: (model: string) => void;
}

/** How long to wait before looking again when no model can be evicted yet (the others load, drain, or have callers waiting). */
const RECHECK_MS = 10;

export class LoadLimit implements OnDemandLoads {
  readonly #options: LoadLimitOptions;
  /** The load on demand under way per model, shared by the calls that wait for it. */
  readonly #pending = new Map<ServedModel, Promise<void>>();
  /** The last admission: admissions run one after another. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(options: LoadLimitOptions) {
    this.#options = options;
  }

  /** The index's reason for a model evicted, and for one not loaded yet. */
  get evictedReason(): string {
    return `evicted (max_loaded_models: ${this.#options.max}); loads again on its next call`;
  }

  get notYetReason(): string {
    return `not loaded yet (max_loaded_models: ${this.#options.max}); loads on its first call`;
  }

  /** Parks every model past the first `max` and returns the ones to load now. */
  atStart(models: readonly ServedModel[]): readonly ServedModel[] {
    for (const model of models.slice(this.#options.max)) model.park(this.notYetReason);
    return models.slice(0, this.#options.max);
  }

  /** Loads a parked model, evicting the least recently used first when `max` are loaded. Shared by concurrent calls. */
  readonly demand = (model: ServedModel): Promise<void> => {
    if (this.#options.draining()) return Promise.reject(new ModelNotReadyError(`model '${model.name}' is not loaded and the server is shutting down`));
    let pending = this.#pending.get(model);
    if (pending !== undefined) return pending;
    const admitted = this.#turn.then(() => this.#admit(model));
    this.#turn = admitted.catch(() => undefined);
    pending = admitted.then(({ loaded }) => loaded).finally(() => this.#pending.delete(model));
    this.#pending.set(model, pending);
    return pending;
  };

  /** Makes room, then starts the load (not waited for here, so the next admission need not wait for it). */
  async #admit(model: ServedModel): Promise<{ loaded: Promise<void> }> {
    await model.usage.evicting;
    const { logger, max } = this.#options;
    for (;;) {
      if (this.#options.draining()) throw new ModelNotReadyError(`model '${model.name}' is not loaded and the server is shutting down`);
      const others = this.#options.models().filter((other) => other !== model);
      const loaded = others.filter((other) => other.state === 'ready' || other.state === 'loading' || other.state === 'unloading');
      if (loaded.length < max) break;
      const victim = leastRecentlyUsed(loaded);
      if (victim === undefined) {
        await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
        continue;
      }
      logger.info({ model: victim.name, version: victim.version, in_flight: victim.inFlight, for_model: model.name, max_loaded_models: max }, 'model evicted (max_loaded_models)');
      this.#options.evicted(victim.name);
      await victim.evict(this.evictedReason, this.#options.drainTimeoutMs);
    }
    logger.info({ model: model.name, version: model.version, max_loaded_models: max }, 'model loads on demand (its first call since start or eviction)');
    return { loaded: model.load() };
  }
}

/** The ready model used least recently, an idle one if any; never one with calls waiting for its load. */
function leastRecentlyUsed(models: readonly ServedModel[]): ServedModel | undefined {
  const candidates = models.filter((model) => model.state === 'ready' && model.usage.waiting === 0);
  const idle = candidates.filter((model) => model.inFlight === 0);
  let victim: ServedModel | undefined;
  for (const model of idle.length > 0 ? idle : candidates) if (victim === undefined || model.usage.lastUse < victim.usage.lastUse) victim = model;
  return victim;
}
