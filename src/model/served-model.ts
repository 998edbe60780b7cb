/**
 * One model as the server sees it: its metadata (after YAML overrides), its state machine (load, unload) and what it
 * shows before it has loaded (schemas, examples, notes). Calls go through the CallPath built at load, which `ready()`
 * hands out only while the model is ready. The compiled schemas are ModelSchemas, the batching chosen at load is
 * CallPlan (batching/), metrics and the prediction log are CallObservation.
 */
import type { Logger } from 'pino';
import { CallPlan, type ModelQueue } from '../batching/call-plan.js';
import type { BatchObserver } from '../batching/batcher.js';
import type { ServingSettings } from '../config/serving.js';
import type { NamedDecorator } from '../decorators/chain.js';
import type { LongshoreError } from '../errors.js';
import type { ModelObserver } from '../metrics/catalogue.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import type { TensorSignature } from '../tensors/tensor.js';
import type { ModelListing, ModelMemory, ModelState, OperationDescription } from '../wire.js';
import { ModelNotReadyError } from '../errors.js';
import { modelThrewError, notReadyError } from './call-errors.js';
import { CallObservation } from './call-observation.js';
import { CallPath } from './call-path.js';
import type { ModelExample } from './contract.js';
import type { ServedMetadata } from './metadata.js';
import { readModelMemory } from './model-memory.js';
import { ModelSchemas } from './model-schemas.js';
import { callerExamples } from './self-test.js';
import { UNLIMITED, type ServedModelOptions } from './served-model-options.js';
import { WarmupGate, warmUp } from './warmup.js';
import type { SchemaRecord } from './validation.js';

export class ServedModel {
  readonly metadata: ServedMetadata;
  readonly createEndpoint: boolean;
  readonly required: boolean;
  readonly model: RuntimeModel;
  #state: ModelState = 'loading';
  #loading: Promise<void> | undefined;
  #error: string | undefined;
  /** The calls of the loaded model; undefined before load and after unload began. */
  #calls: CallPath | undefined;
  /** Kept past unload, so the model's queue (and its stuck calls) stays visible to readiness. */
  #plan: CallPlan | undefined;
  readonly #schemas: ModelSchemas;
  readonly #decorators: readonly NamedDecorator[];
  readonly #configExamples: readonly ModelExample[];
  readonly #logger: Logger;
  readonly #listeners: (() => void)[] = [];
  readonly #serving: ServingSettings;
  readonly #observer: BatchObserver | undefined;
  readonly #modelObserver: ModelObserver | undefined;
  readonly #observation: CallObservation;
  /** Calls begun through use() and not yet settled; retire() waits for none. */
  #inFlight = 0;
  readonly #whenIdle: (() => void)[] = [];
  /** server.max_loaded_models (load-limit.ts): why the model is not loaded and loads on its next call; else undefined. */
  #parked: string | undefined;
  /** Loads a parked model, making room first (LoadLimit.demand); set by the registry when the limit is on. */
  #onDemand: ((model: ServedModel) => Promise<void>) | undefined;
  /** Calls waiting for an on-demand load (never evicted while some wait). */
  #waiting = 0;
  /** When the model was last used: a tick of one counter shared by every model (cheap: one write per call). */
  #lastUse = 0;
  #evicting: Promise<void> | undefined;
  readonly #leave = () => {
    if (--this.#inFlight > 0 || this.#whenIdle.length === 0) return;
    for (const resolve of this.#whenIdle.splice(0)) resolve();
  };

  /** Compiles the schemas the model already exposes; throws if one is not a valid JSON Schema. */
  constructor(model: RuntimeModel, options: ServedModelOptions) {
    this.model = model;
    this.metadata = options.metadata;
    this.createEndpoint = options.createEndpoint;
    this.required = options.required;
    this.#logger = options.logger.child({ model: options.metadata.qualified_name, version: options.metadata.version });
    this.#serving = options.serving ?? UNLIMITED;
    this.#observer = options.observer;
    this.#modelObserver = options.modelObserver;
    this.#observation = new CallObservation({
      model,
      name: this.name,
      version: this.metadata.version,
      logger: this.#logger,
      modelObserver: options.modelObserver,
      recorder: options.recorder,
    });
    this.#decorators = options.decorators ?? [];
    this.#configExamples = options.examples ?? [];
    this.#schemas = new ModelSchemas(this.name, this.#decorators);
    this.#modelObserver?.watchReady(() => this.#state === 'ready');
    this.#modelObserver?.watchMemory(() => this.memory());
    this.#schemas.compile(model);
  }

  /** Calls `listener` after every state change (the registry bumps its version so cached documents refresh). */
  onStateChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  offStateChange(listener: () => void): void {
    const at = this.#listeners.indexOf(listener);
    if (at >= 0) this.#listeners.splice(at, 1);
  }

  get name(): string {
    return this.metadata.qualified_name;
  }

  get version(): string {
    return this.metadata.version;
  }

  get state(): ModelState {
    return this.#state;
  }

  /** Why the model failed to load, when it did. */
  get error(): string | undefined {
    return this.#error;
  }

  /**
   * The model's calls, when it is ready; else ModelNotReadyError (503, with Retry-After while it loads, naming the
   * load error when it failed). The one readiness check of a call.
   */
  ready(): CallPath {
    const calls = this.#calls;
    if (this.#parked !== undefined && this.#state !== 'ready') throw new ModelNotReadyError(`model '${this.name}' is ${this.#parked}`);
    if (this.#state !== 'ready' || !calls) throw notReadyError(this.name, this.#state, this.#error);
    return calls;
  }

  /**
   * Runs `call` on the model's calls (ready() first: 503 unless ready), counted in flight until its promise settles, so
   * that retire() lets it finish before the model unloads.
   */
  use<T>(call: (calls: CallPath) => Promise<T>, waitMs?: number): Promise<T> {
    if (this.#parked !== undefined && this.#state !== 'ready' && this.#onDemand !== undefined) return this.#useOnDemand(call, waitMs);
    const calls = this.ready();
    this.#lastUse = ++useTicks;
    this.#inFlight++;
    let result: Promise<T>;
    try {
      result = call(calls);
    } catch (error) {
      this.#leave();
      throw error;
    }
    return result.finally(this.#leave);
  }

  /** A call to a parked model: waits for its load on demand (shared), at most the shorter of `waitMs` and timeout_ms. */
  async #useOnDemand<T>(call: (calls: CallPath) => Promise<T>, waitMs: number | undefined): Promise<T> {
    const demand = this.#onDemand as (model: ServedModel) => Promise<void>;
    const bound = [waitMs ?? 0, this.#serving.timeoutMs].filter((ms) => ms > 0);
    this.#waiting++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const loaded = demand(this);
      if (bound.length === 0) await loaded;
      else {
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, Math.min(...bound), 'late')));
        if ((await Promise.race([loaded, late])) === 'late') throw notReadyError(this.name, 'loading', undefined);
      }
    } finally {
      clearTimeout(timer);
      this.#waiting--;
    }
    const calls = this.ready();
    this.#lastUse = ++useTicks;
    this.#inFlight++;
    return call(calls).finally(this.#leave);
  }

  /** Loads parked models through `loader` (server.max_loaded_models); see load-limit.ts. */
  loadOnDemand(loader: (model: ServedModel) => Promise<void>): void {
    this.#onDemand = loader;
  }

  /** Marks a model never loaded as loading on its first call instead (server.max_loaded_models), saying `why`. */
  park(why: string): void {
    if (this.#loading !== undefined || (this.#state !== 'loading' && this.#state !== 'unloaded')) return;
    this.#parked = why;
    this.#setState('unloaded');
  }

  /** Why the model is not loaded and loads on its next call (server.max_loaded_models); undefined otherwise. */
  get parked(): string | undefined {
    return this.#parked;
  }

  /**
   * Evicts the model (server.max_loaded_models): it stays served, stops taking calls at once (a new call waits and loads
   * it again), drains the calls in flight as retire() does, and unloads. Only a ready model is evicted.
   */
  evict(why: string, timeoutMs: number): Promise<void> {
    if (this.#state !== 'ready') return this.#evicting ?? Promise.resolve();
    this.#parked = why;
    this.#setState('unloading');
    this.#evicting = this.retire(timeoutMs).finally(() => {
      this.#evicting = undefined;
    });
    return this.#evicting;
  }

  /** The eviction under way, the tick of the last call (larger: more recent) and the calls waiting for a load on demand. */
  get usage(): { readonly evicting: Promise<void> | undefined; readonly lastUse: number; readonly waiting: number } {
    return { evicting: this.#evicting, lastUse: this.#lastUse, waiting: this.#waiting };
  }

  /** Calls begun through use() and not yet finished. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Drains, then unloads: waits until every call begun through use() has finished (at most `timeoutMs`; 0 waits however
   * long), then unload(). For a model already taken out of service (the registry no longer hands it out).
   */
  async retire(timeoutMs: number): Promise<void> {
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<void>((resolve) => this.#whenIdle.push(resolve));
      const late = timeoutMs > 0 ? new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))) : undefined;
      await (late ? Promise.race([idle, late]) : idle);
      clearTimeout(timer);
      if (this.#inFlight > 0) this.#logger.warn({ in_flight: this.#inFlight, timeout_ms: timeoutMs }, 'model unloads with calls still running (drain timed out)');
    }
    await this.unload();
  }

  /** Facts about how the model is served: the model's own notes, then the batching decided at load. */
  get notes(): string[] {
    return [...(this.model.notes ?? []), ...(this.#plan?.notes ?? [])];
  }

  /** The model's queue (after load): rows waiting, batches running, and the check on arrival (ModelQueue). */
  get queue(): ModelQueue | undefined {
    return this.#plan;
  }

  get inputSchema(): SchemaRecord | undefined {
    return this.#schemas.input;
  }

  get outputSchema(): SchemaRecord | undefined {
    return this.#schemas.output;
  }

  /**
   * The tensor view (known before load for a code model): the model's own (ONNX), else one column per top-level field
   * of the record schemas. A decorated model always has the record view, since its decorators work on records.
   */
  get signature(): TensorSignature | undefined {
    return this.#decorators.length > 0 ? this.#schemas.recordSignature : (this.model.signature ?? this.#schemas.recordSignature);
  }

  /** The self-tests: the model's own examples, then the config entry's. */
  get examples(): readonly ModelExample[] {
    return [...(this.model.examples ?? []), ...this.#configExamples];
  }

  /**
   * The examples whose input is what callers send (OpenAPI request examples): the config entry's, and the class's own
   * unless decorators changed the input schema.
   */
  get requestExamples(): { readonly name: string; readonly input: unknown }[] {
    return callerExamples(this.model.examples ?? [], this.#configExamples, !this.#schemas.decoratesInput);
  }

  /** Whether the model answers explain. */
  get explains(): boolean {
    return typeof this.model.explain === 'function';
  }

  /** The model's custom operations with their schemas (known once it has loaded). */
  get operations(): OperationDescription[] {
    return this.#calls?.operations.describe() ?? [];
  }

  /** What the model holds (model-memory.ts): its metadata's `memory` and longshore_model_memory_bytes. */
  memory(): Promise<ModelMemory> {
    return readModelMemory(this.model);
  }

  listing(): ModelListing {
    return this.#error === undefined
      ? { ...this.metadata, status: this.#state }
      : { ...this.metadata, status: this.#state, error: this.#error };
  }

  /**
   * Runs the model's load(), then (re)compiles its schemas, builds its call path and warms it up (self-tests, warmup.ts).
   * Never throws: a failure moves the model to `failed`. Idempotent: a ready model is not loaded again, a load in
   * progress is shared, an unloaded model stays unloaded; only a failed model is retried.
   */
  load(): Promise<void> {
    if (this.#state === 'ready' || this.#state === 'unloading' || (this.#state === 'unloaded' && this.#parked === undefined)) return Promise.resolve();
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const started = performance.now();
    this.#setState('loading');
    this.#logger.info('model loading');
    try {
      for (const { decorator } of this.#decorators) await decorator.load?.();
      await this.model.load?.();
      if (this.#state !== 'loading') {
        // Shutdown unloaded the model while load() ran: release what the late load acquired, stay unloaded.
        await this.model.unload?.();
        this.#logger.info({ duration_ms: round(performance.now() - started) }, 'model finished loading after shutdown began; released again');
        return;
      }
      this.#schemas.compile(this.model);
      const validators = this.#schemas.validators;
      if (!validators) throw new Error('the model has no input_schema or output_schema after load(); both must be JSON Schema objects');
      const gate = new WarmupGate(this.#observer);
      const plan = new CallPlan(this.model, this.name, this.#serving, gate.observer, this.#modelObserver, this.version);
      this.#plan = plan;
      const calls = new CallPath({
        model: this.model,
        name: this.name,
        version: this.version,
        schemas: this.#schemas,
        validators,
        decorators: this.#decorators,
        plan,
        observation: this.#observation,
        configExamples: this.#configExamples,
        modelThrew: (error) => this.#modelThrew(error),
      });
      const failures = await warmUp(calls, this.examples.length > 0, this.#serving.warmup, this.#logger);
      if (failures.length > 0) throw new Error(failures.join('; '));
      gate.open();
      this.#calls = calls;
      this.#parked = undefined;
      this.#modelObserver?.loaded((performance.now() - started) / 1000);
      this.#setState('ready');
      this.#logger.info({ duration_ms: round(performance.now() - started), batching: plan.batching, policy: this.#serving.policy, warmup: this.#serving.warmup }, 'model ready');
      for (const note of this.notes) this.#logger.warn({ note }, 'model served with a limitation');
    } catch (error) {
      if (this.#state !== 'loading') return;
      this.#parked = undefined;
      this.#error = (error as Error).message || String(error);
      this.#setState('failed');
      this.#logger.error({ err: error, duration_ms: round(performance.now() - started) }, 'model failed to load');
    }
  }

  /** Runs the model's unload(); errors are logged, not thrown, so shutdown always completes. */
  async unload(): Promise<void> {
    if (this.#state === 'unloaded') return;
    this.#setState('unloading');
    const started = performance.now();
    try {
      await this.model.unload?.();
    } catch (error) {
      this.#logger.error({ err: error, duration_ms: round(performance.now() - started) }, 'model failed to unload');
    }
    for (const { label, decorator } of this.#decorators) {
      try {
        await decorator.unload?.();
      } catch (error) {
        this.#logger.error({ err: error, decorator: label }, 'decorator failed to unload');
      }
    }
    this.#setState('unloaded');
    this.#logger.info({ duration_ms: round(performance.now() - started) }, 'model unloaded');
  }

  /** Runs the self-tests again (the deep readiness probe); one line per failing example, empty when all pass. */
  selfTest(): Promise<string[]> {
    if (this.#state !== 'ready' || !this.#calls) return Promise.resolve([]);
    return this.#calls.runSelfTests();
  }

  #modelThrew(error: unknown): LongshoreError {
    return modelThrewError(this.name, this.#state, error);
  }

  #setState(state: ModelState): void {
    this.#state = state;
    if (state !== 'failed') this.#error = undefined;
    for (const listener of this.#listeners) listener();
  }
}

/** The clock of ServedModel.lastUse: one counter for every model, bumped by each call. */
let useTicks = 0;

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
