/**
 * `workers: N` for code models: a Model that runs the user's `predict()` / `predictBatch()` in a piscina pool of N
 * worker threads, so a synchronous, CPU-bound model does not block the event loop (health checks, other models).
 *
 * The main thread keeps the instance the module runtime constructed only for its metadata and first schemas; it never
 * loads it or predicts with it. `load()` starts the pool; every worker constructs its own instance (with its own clone
 * of `configuration`), awaits its `load()` and reports back (see worker-body.ts). A worker that crashes fails only the
 * calls it was running; piscina starts a replacement, which loads the model again before it takes calls. A call whose
 * every caller was answered at its deadline (its RunStop aborts) has its worker terminated and replaced, so a hung call
 * never holds a slot. Every replacement after load is reported to the listener set with WATCH_WORKERS (the registry logs
 * and counts it).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { deserialize } from 'node:v8';
import { BroadcastChannel, type Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import * as catalogue from '../errors.js';
import type { CallContext, JsonSchema, Model } from '../model/contract.js';
import type { ModelMemory, RunStop } from './runtime-model.js';
import { isOutOfMemory, readPoolHeap } from './worker-memory.js';
import {
  isWorkerReport,
  UNLOAD_REQUEST,
  WATCH_WORKERS,
  WORKER_REPORT,
  type WorkerRestart,
  type SerializedError,
  type WorkerData,
  type WorkerReply,
  type WorkerReport,
  type WorkerTask,
} from './worker-protocol.js';

/** A plain .js file, so a worker can start before any TypeScript loader is registered in it. */
const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.js', import.meta.url));

/** How long unload() waits for the workers' own unload() before terminating them anyway. */
export const WORKER_UNLOAD_TIMEOUT_MS = 5000;

export interface WorkerPoolModelOptions {
  /** The resolved URL of the module exporting the class, and the export's name. */
  readonly url: string;
  readonly exportName: string;
  readonly configuration: Readonly<Record<string, unknown>>;
  /** Number of worker threads (> 0). */
  readonly workers: number;
  /** The instance constructed on the main thread: metadata and schemas are read from it; it is never loaded. */
  readonly template: Model;
  /** The model's name in messages (the entry's `qualified_name`, else the class's). */
  readonly name: string;
  /** `memory_limit_mb`: each thread's resourceLimits.maxOldGenerationSizeMb; absent: V8's default. */
  readonly memoryLimitMb?: number | undefined;
}

/** Creates (without starting any thread) the pool-backed Model. */
export function createWorkerPoolModel(options: WorkerPoolModelOptions): Model {
  return new WorkerPoolModel(options);
}

class WorkerPoolModel implements Model {
  readonly qualified_name?: string;
  readonly display_name?: string;
  readonly description?: string;
  readonly version?: string;
  readonly notes?: readonly string[];
  input_schema: JsonSchema;
  output_schema: JsonSchema;
  /** Present only when the class has predictBatch (ServedModel checks for it). */
  readonly predictBatch?: (inputs: unknown[], context?: CallContext, stop?: RunStop) => Promise<unknown[]>;
  readonly #options: Omit<WorkerPoolModelOptions, 'template'>;
  #pool: Piscina<WorkerTask, WorkerReply> | undefined;
  /** The load in progress, shared by concurrent callers. */
  #loading: Promise<void> | undefined;
  #channelName = '';
  /** Rejects a load() in progress (unload() during load). */
  #abortLoad: ((error: Error) => void) | undefined;
  /** Between a successful load and unload: a thread that ends then is a restart to report. */
  #serving = false;
  /** True while the pool terminates a worker itself because its call ran past its deadline (see #run). */
  #stopping = false;
  #onRestart: ((restart: WorkerRestart) => void) | undefined;
  /** A call's RunStop aborted: made once, not per call (a batch run again job by job adds it to the same signal once). */
  readonly #onStop = (): void => {
    this.#stopping = true;
    queueMicrotask(() => (this.#stopping = false));
  };

  constructor(options: WorkerPoolModelOptions) {
    const { template, ...rest } = options;
    this.#options = rest; // the template is not kept: only what was copied from it below
    this.qualified_name = template.qualified_name;
    this.display_name = template.display_name;
    this.description = template.description;
    this.version = template.version;
    if (template.notes !== undefined) this.notes = template.notes;
    this.input_schema = template.input_schema;
    this.output_schema = template.output_schema;
    if (typeof template.predictBatch === 'function') {
      this.predictBatch = async (inputs, _context, stop) => this.#run({ op: 'predictBatch', inputs }, stop) as Promise<unknown[]>;
    }
  }

  /** Sets the one listener told of every worker thread replaced while the model serves. */
  [WATCH_WORKERS](listener: (restart: WorkerRestart) => void): void {
    this.#onRestart = listener;
  }

  load(): Promise<void> {
    if (this.#pool && !this.#loading) return Promise.resolve();
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const { workers, name } = this.#options;
    this.#channelName = `longshore-workers-${randomUUID()}`;
    const workerData: WorkerData = {
      url: this.#options.url,
      exportName: this.#options.exportName,
      configuration: structuredClone(this.#options.configuration) as Record<string, unknown>,
      channel: this.#channelName,
    };
    const pool = new Piscina<WorkerTask, WorkerReply>({
      filename: WORKER_ENTRY,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      // Idle workers wait on their event loop, not in Atomics.wait(): the model's own timers keep running, and unload
      // requests (a BroadcastChannel) reach idle workers.
      atomics: 'disabled',
      workerData,
      ...(this.#options.memoryLimitMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: this.#options.memoryLimitMb } }),
    });
    this.#pool = pool;
    const crashes = watchCrashes(pool);
    pool.on('workerDestroy', () => this.#workerEnded(pool, crashes));
    try {
      const loaded = await this.#waitForWorkers(pool, crashes);
      this.input_schema = loaded.input_schema as JsonSchema;
      this.output_schema = loaded.output_schema as JsonSchema;
    } catch (error) {
      if (this.#pool === pool) this.#pool = undefined;
      await pool.destroy();
      throw error;
    } finally {
      this.#abortLoad = undefined;
    }
    // From here on, a worker that crashes while idle is replaced by piscina; the replacement loads the model again.
    this.#serving = this.#pool === pool;
    pool.on('message', (message: unknown) => {
      if (isWorkerReport(message) && message[WORKER_REPORT] === 'load-failed') {
        process.emitWarning(
          `model '${name}': a replacement worker thread failed to load the model (${message.error.message}); the calls it takes will fail`,
          { code: 'LONGSHORE_WORKER_LOAD_FAILED' },
        );
      }
    });
  }

  /** Resolves with the schemas of the first worker once all N have loaded; rejects on the first failure. */
  #waitForWorkers(pool: Piscina<WorkerTask, WorkerReply>, crashes: CrashLog): Promise<{ input_schema: JsonSchema | undefined; output_schema: JsonSchema | undefined }> {
    const { workers, name } = this.#options;
    return new Promise((resolve, reject) => {
      const loaded = new Map<number, Extract<WorkerReport, { [WORKER_REPORT]: 'loaded' }>>();
      const finish = (error?: Error) => {
        pool.off('message', onMessage);
        pool.off('workerDestroy', onDestroy);
        if (error) return reject(error);
        const first = loaded.values().next().value;
        resolve({ input_schema: first?.input_schema, output_schema: first?.output_schema });
      };
      const onMessage = (message: unknown) => {
        if (!isWorkerReport(message)) return;
        if (message[WORKER_REPORT] === 'loaded') {
          loaded.set(message.threadId, message);
          if (loaded.size >= workers) finish();
        } else if (message[WORKER_REPORT] === 'load-failed') {
          finish(new Error(`model '${name}' failed to load in a worker thread: ${message.error.message}`, { cause: reviveError(message.error) }));
        }
      };
      // A worker that dies while loading (process.exit(), an uncaught error) fails the load: a model that
      // kills its worker during load would otherwise be restarted by piscina over and over.
      const onDestroy = () => {
        setImmediate(() => finish(new Error(`model '${name}' failed to load: a worker thread ${crashes.describe()} while loading the model`)));
      };
      pool.on('message', onMessage);
      pool.on('workerDestroy', onDestroy);
      this.#abortLoad = finish;
    });
  }

  predict(input: unknown, _context?: CallContext, stop?: RunStop): Promise<unknown> {
    return this.#run({ op: 'predict', input }, stop);
  }

  async #run(task: WorkerTask, stop: RunStop | undefined): Promise<unknown> {
    const pool = this.#pool;
    if (!pool || this.#abortLoad) throw new Error(`model '${this.#options.name}' is not loaded`);
    const signal = stop?.signal;
    // Before piscina's own listener (which terminates the worker running the task), so #workerEnded knows why.
    signal?.addEventListener('abort', this.#onStop, { once: true });
    let reply: WorkerReply;
    try {
      reply = await pool.run(task, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) {
        throw new Error('the call ran past the deadline of every caller; its worker thread was terminated and is being replaced', { cause: error });
      }
      if (isOutOfMemory(error)) {
        throw new Error(
          `the worker thread running this call ran out of memory (memory_limit_mb: ${this.#options.memoryLimitMb ?? "V8's default"}) and was ended; a new worker thread replaces it and loads the model again`,
          { cause: error },
        );
      }
      // The handler never throws: a rejection means the worker died under the call, or the pool was destroyed.
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`the worker thread running this call died (${reason}); a new worker thread replaces it and loads the model again`, { cause: error });
    }
    if (!reply.ok) throw reviveError(reply.error);
    return deserialize(reply.value) as unknown;
  }

  /** The used V8 heap of the threads (those busy in a call past WORKER_MEMORY_TIMEOUT_MS are left out, and named). */
  async memory(): Promise<ModelMemory> {
    const pool = this.#pool;
    if (!pool || this.#abortLoad) return { measured: false, bytes: {}, method: 'not loaded: no worker threads' };
    const { heapUsed, answered, threads } = await readPoolHeap(pool, this.#channelName);
    const missing = answered < threads ? `; ${threads - answered} of ${threads} thread(s) busy, not counted` : '';
    return { measured: true, bytes: { worker_heap: heapUsed }, method: `worker_heap: the V8 heap used by ${answered} worker thread(s) (v8.getHeapStatistics() in each)${missing}` };
  }

  /**
   * Asks every worker to run the model's unload() (waiting at most WORKER_UNLOAD_TIMEOUT_MS), then ends the threads.
   * During load() (shutdown before the workers have loaded) the threads are ended at once, which releases what their
   * loads hold; the failed load() is then ignored by the served model, which is already unloading.
   */
  async unload(): Promise<void> {
    const pool = this.#pool;
    if (!pool) return;
    this.#pool = undefined;
    this.#serving = false;
    const abortLoad = this.#abortLoad;
    abortLoad?.(new Error(`model '${this.#options.name}' was unloaded before its workers finished loading`));
    const failures = abortLoad ? [] : await this.#unloadWorkers(pool);
    await pool.destroy();
    if (failures.length > 0) {
      throw new Error(`unload() failed in ${failures.length} worker thread(s): ${failures.map((failure) => failure.message).join('; ')}`, {
        cause: reviveError(failures[0] as SerializedError),
      });
    }
  }

  /** A worker thread of `pool` was removed: report it (once its exit code or error is known) while the model serves. */
  #workerEnded(pool: Piscina, crashes: CrashLog): void {
    if (!this.#serving || this.#pool !== pool) return;
    if (this.#stopping) {
      this.#onRestart?.({ reason: 'deadline', detail: 'a call ran past the deadline of every caller, so its thread was terminated' });
      return;
    }
    // piscina removes the worker from within the thread's own 'exit' or 'error' event; ours fire right after it.
    setImmediate(() => {
      if (!this.#serving || this.#pool !== pool) return;
      const end = crashes.takeEnd();
      if (end?.error && isOutOfMemory(end.error)) {
        const limit = this.#options.memoryLimitMb;
        this.#onRestart?.({ reason: 'memory', detail: `the thread ran out of memory (memory_limit_mb: ${limit ?? "V8's default"})` });
      } else if (end?.error) this.#onRestart?.({ reason: 'error', detail: `an error thrown outside any call ended the thread: ${end.error.message}` });
      else this.#onRestart?.({ reason: 'exit', detail: end?.code === undefined ? 'the thread exited' : `the thread exited with code ${end.code}` });
    });
  }

  async #unloadWorkers(pool: Piscina<WorkerTask, WorkerReply>): Promise<SerializedError[]> {
    const expected = pool.threads.length;
    const replies = new Map<number, SerializedError | undefined>();
    if (expected === 0) return [];
    const channel = new BroadcastChannel(this.#channelName);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, WORKER_UNLOAD_TIMEOUT_MS);
      function done(): void {
        clearTimeout(timer);
        pool.off('message', onMessage);
        resolve();
      }
      function onMessage(message: unknown): void {
        if (!isWorkerReport(message) || message[WORKER_REPORT] !== 'unloaded') return;
        replies.set(message.threadId, message.error);
        if (replies.size >= expected) done();
      }
      pool.on('message', onMessage);
      channel.postMessage(UNLOAD_REQUEST);
    });
    channel.close();
    return [...replies.values()].filter((error): error is SerializedError => error !== undefined);
  }
}

interface CrashLog {
  /** "exited with code 3", "failed: <message>", or "exited". */
  describe(): string;
  /** How the earliest thread not yet reported ended (its uncaught error, else its exit code), forgotten once taken. */
  takeEnd(): { error?: Error; code?: number } | undefined;
}

/**
 * Keeps the pool's errors from crashing the process (piscina emits `error` for a worker that fails outside a call, and
 * an `error` event without a listener throws) and remembers how each thread ended, for load failure messages and the
 * restarts reported while serving.
 */
function watchCrashes(pool: Piscina): CrashLog {
  let lastError: Error | undefined;
  let lastExitCode: number | undefined;
  // By thread, in the order they ended (a thread's id is -1 once it has exited, so the Worker is the key).
  const ends = new Map<Worker, { error?: Error; code?: number }>();
  const seen = new WeakSet<Worker>();
  const track = () => {
    for (const worker of pool.threads) {
      if (seen.has(worker)) continue;
      seen.add(worker);
      worker.once('error', (error) => {
        ends.set(worker, { ...ends.get(worker), error });
      });
      worker.once('exit', (code) => {
        lastExitCode = code;
        ends.set(worker, { ...ends.get(worker), code });
        setImmediate(() => ends.delete(worker)); // after a report's takeEnd(), which was scheduled first
      });
    }
  };
  track();
  pool.on('workerCreate', track);
  pool.on('workerDestroy', () => setImmediate(track)); // the replacement is added right after the dead worker is removed
  pool.on('error', (error: unknown) => {
    lastError = error instanceof Error ? error : new Error(String(error));
  });
  return {
    describe: () => {
      if (lastError) return `failed (${lastError.message})`;
      return lastExitCode === undefined ? 'exited' : `exited with code ${lastExitCode}`;
    },
    takeEnd: () => {
      const [first] = ends;
      if (!first) return undefined;
      ends.delete(first[0]);
      return first[1];
    },
  };
}

type CatalogueClass = new (message: string, options: { details?: catalogue.ErrorDetail[]; retryAfterSeconds?: number }) => catalogue.LongshoreError;

/**
 * The error a worker sent, rebuilt on the main thread: a longshore catalogue error thrown by the model keeps its class
 * (so a SchemaValidationError is still a 400); anything else is an Error with the model's message, name and stack.
 */
export function reviveError(error: SerializedError): Error {
  let revived: Error;
  const candidate = error.type !== undefined && error.type in catalogue.ERROR_STATUS ? (catalogue as Record<string, unknown>)[error.type] : undefined;
  if (typeof candidate === 'function' && candidate.prototype instanceof catalogue.LongshoreError) {
    revived = new (candidate as CatalogueClass)(error.message, {
      ...(error.details ? { details: error.details } : {}),
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    });
  } else {
    revived = new Error(error.message);
    if (error.name !== undefined && error.name !== 'Error') Object.defineProperty(revived, 'name', { value: error.name, configurable: true, writable: true });
  }
  if (error.stack !== undefined) revived.stack = error.stack;
  return revived;
}
