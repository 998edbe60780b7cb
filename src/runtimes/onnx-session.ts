/**
 * Where an ONNX model's session runs: on the main thread (the default; no hand-off cost, best for small models), or in
 * worker threads (`workers: N`), each with its own session, so a run that takes milliseconds no longer blocks the
 * event loop. onnxruntime-node computes on the calling thread, so on the main thread every run stops HTTP work for
 * its whole duration; in a worker, reading the next requests overlaps the current run.
 */
import type { WorkerRestart } from './worker-protocol.js';
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { TensorData } from '../tensors/datatypes.js';

type Metadata = ort.InferenceSession.ValueMetadata;

/** A tensor as a session takes and gives it: onnxruntime's type name, dims and flat data. */
export interface RunTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export interface SessionBackend {
  readonly inputMetadata: readonly Metadata[];
  readonly outputMetadata: readonly Metadata[];
  run(feeds: Record<string, RunTensor>, fetches: readonly string[]): Promise<Record<string, RunTensor>>;
  release(): Promise<void>;
  /** Live sessions, and the V8 heap their worker threads use (none on the main thread). */
  memory(): Promise<SessionMemory>;
}

export interface SessionMemory {
  readonly sessions: number;
  /** Bytes of V8 heap used by the session threads that answered in time; absent on the main thread. */
  readonly workerHeap?: number;
}

/** How long a memory reading waits for a thread busy in a run; a thread that does not answer in time is left out. */
export const MEMORY_REPLY_TIMEOUT_MS = 1000;

/** The session on the calling (main) thread. */
export async function createLocalSession(path: string, options: ort.InferenceSession.SessionOptions): Promise<SessionBackend> {
  const session = await ort.InferenceSession.create(path, options);
  return {
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
    async run(feeds, fetches) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) {
        tensors[name] = new ort.Tensor(feed.type as ort.Tensor.Type, feed.data as ort.Tensor.DataType, [...feed.dims]);
      }
      const results = await session.run(tensors, [...fetches]);
      const outputs: Record<string, RunTensor> = {};
      for (const name of fetches) {
        const tensor = results[name] as ort.Tensor;
        outputs[name] = { type: tensor.type, dims: tensor.dims, data: tensor.data as TensorData };
      }
      return outputs;
    },
    release: () => session.release(),
    memory: () => Promise.resolve({ sessions: 1 }),
  };
}

/**
 * `count` worker threads, each with its own session; a run goes to the live thread with the fewest runs pending. A
 * thread that dies (a crash in native code, out of memory) fails the runs it had, and a new thread with a new session
 * takes its place; runs that find no live thread wait for it.
 */
export async function createWorkerSessions(path: string, options: ort.InferenceSession.SessionOptions, count: number): Promise<WorkerSessions> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => SessionWorker.start(path, options)));
  const workers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    // Threads that did start hold a session each: release them, or they would keep the process alive.
    await Promise.all(workers.map((worker) => worker.release()));
    throw failure.reason;
  }
  return new WorkerSessions(path, options, workers);
}

export class WorkerSessions implements SessionBackend {
  readonly inputMetadata: readonly Metadata[];
  readonly outputMetadata: readonly Metadata[];
  readonly #path: string;
  readonly #options: ort.InferenceSession.SessionOptions;
  readonly #workers: SessionWorker[];
  /** Replacements being started, by slot. */
  readonly #replacing = new Map<number, Promise<void>>();
  #released = false;
  /** Told of every thread replaced after start (the model reports it: longshore_worker_restarts_total, a log line). */
  onRestart: ((restart: WorkerRestart) => void) | undefined;

  constructor(path: string, options: ort.InferenceSession.SessionOptions, workers: SessionWorker[]) {
    const first = workers[0] as SessionWorker;
    this.inputMetadata = first.inputMetadata;
    this.outputMetadata = first.outputMetadata;
    this.#path = path;
    this.#options = options;
    this.#workers = workers;
    workers.forEach((worker, slot) => this.#watch(worker, slot));
  }

  async run(feeds: Record<string, RunTensor>, fetches: readonly string[]): Promise<Record<string, RunTensor>> {
    let best = this.#pick();
    if (!best && this.#replacing.size > 0) {
      await Promise.any([...this.#replacing.values()]).catch(() => undefined);
      best = this.#pick();
    }
    if (!best) throw new Error('every ONNX session thread of this model died and none could be restarted; restart the server');
    return best.run(feeds, fetches);
  }

  /** Ends one thread as a crash would (the tests use it to check that a new thread takes its place). */
  async terminateThread(slot: number): Promise<void> {
    await this.#workers[slot]?.terminate();
  }

  async release(): Promise<void> {
    this.#released = true;
    await Promise.all(this.#replacing.values());
    await Promise.all(this.#workers.map((worker) => worker.release()));
  }

  async memory(): Promise<SessionMemory> {
    const live = this.#workers.filter((worker) => worker.alive);
    const heaps = await Promise.all(live.map((worker) => worker.heapUsed()));
    return { sessions: live.length, workerHeap: heaps.reduce<number>((sum, used) => sum + (used ?? 0), 0) };
  }

  /** The live thread with the fewest runs pending (a dead one has none pending, so it must be skipped). */
  #pick(): SessionWorker | undefined {
    let best: SessionWorker | undefined;
    for (const worker of this.#workers) if (worker.alive && (!best || worker.pending < best.pending)) best = worker;
    return best;
  }

  #watch(worker: SessionWorker, slot: number): void {
    worker.onDeath = () => this.#replace(slot);
  }

  #replace(slot: number): void {
    if (this.#released || this.#replacing.has(slot)) return;
    const replacing = SessionWorker.start(this.#path, this.#options)
      .then(
        async (fresh) => {
          if (this.#released) {
            await fresh.release();
            return;
          }
          this.#workers[slot] = fresh;
          this.#watch(fresh, slot);
          this.onRestart?.({ reason: 'exit', detail: `ONNX session thread ${slot} ended; a new thread with a new session took its place` });
        },
        () => undefined, // the slot stays dead; runs go to the other threads, or fail saying so
      )
      .finally(() => this.#replacing.delete(slot));
    this.#replacing.set(slot, replacing);
  }
}

interface Reply {
  readonly kind: 'ready' | 'failed' | 'result';
  readonly id?: number;
  readonly message?: string;
  readonly error?: string;
  readonly outputs?: Record<string, RunTensor>;
  readonly heapUsed?: number;
  readonly inputMetadata?: Metadata[];
  readonly outputMetadata?: Metadata[];
}

class SessionWorker {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve(outputs: Record<string, RunTensor>): void; reject(error: Error): void }>();
  readonly #heapReplies = new Map<number, (used: number | undefined) => void>();
  #nextId = 0;
  #exit: Error | undefined;
  inputMetadata: Metadata[] = [];
  outputMetadata: Metadata[] = [];
  /** Called once when the thread dies on its own (not when released). */
  onDeath: (() => void) | undefined;

  private constructor(path: string, options: ort.InferenceSession.SessionOptions) {
    this.#worker = new Worker(new URL('./onnx-worker.js', import.meta.url), { workerData: { path, options } });
  }

  /** Starts a thread and resolves once its session exists; rejects with onnxruntime's message when it cannot. */
  static start(path: string, options: ort.InferenceSession.SessionOptions): Promise<SessionWorker> {
    const worker = new SessionWorker(path, options);
    return new Promise((resolve, reject) => {
      const onStartFailure = (error: Error) => reject(error);
      const onEarlyExit = (code: number) => reject(new Error(`the session thread exited (code ${code}) before its session was created`));
      worker.#worker.once('error', onStartFailure);
      worker.#worker.once('exit', onEarlyExit);
      worker.#worker.once('message', (reply: Reply) => {
        worker.#worker.off('error', onStartFailure);
        worker.#worker.off('exit', onEarlyExit);
        if (reply.kind !== 'ready') {
          void worker.#worker.terminate();
          reject(new Error(reply.message ?? 'the session worker failed to start'));
          return;
        }
        worker.inputMetadata = reply.inputMetadata ?? [];
        worker.outputMetadata = reply.outputMetadata ?? [];
        worker.#listen();
        resolve(worker);
      });
    });
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  get pending(): number {
    return this.#waiting.size;
  }

  run(feeds: Record<string, RunTensor>, fetches: readonly string[]): Promise<Record<string, RunTensor>> {
    if (this.#exit) return Promise.reject(this.#exit);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ kind: 'run', id, feeds, fetches });
    });
  }

  /** The thread's used V8 heap (v8.getHeapStatistics() in the thread: Node 20 has no Worker.getHeapStatistics()). */
  heapUsed(): Promise<number | undefined> {
    if (this.#exit) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#heapReplies.delete(id);
        resolve(undefined);
      }, MEMORY_REPLY_TIMEOUT_MS);
      this.#heapReplies.set(id, (used) => {
        clearTimeout(timer);
        resolve(used);
      });
      this.#worker.postMessage({ kind: 'memory', id });
    });
  }

  /** Ends the thread at once, as a crash would. */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  async release(): Promise<void> {
    if (this.#exit) return;
    this.#exit = new Error('the model was unloaded');
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#worker.postMessage({ kind: 'release' });
    // A thread stuck in a long run is not waited for beyond a few seconds.
    const timer = setTimeout(() => void this.#worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  #listen(): void {
    this.#worker.on('message', (reply: Reply) => {
      if (reply.heapUsed !== undefined) {
        this.#heapReplies.get(reply.id as number)?.(reply.heapUsed);
        this.#heapReplies.delete(reply.id as number);
        return;
      }
      const waiting = this.#waiting.get(reply.id as number);
      if (!waiting) return;
      this.#waiting.delete(reply.id as number);
      if (reply.error !== undefined) waiting.reject(new Error(reply.error));
      else waiting.resolve(reply.outputs ?? {});
    });
    // A thread that dies (out of memory, a crash in native code) fails its runs; the process lives on.
    this.#worker.on('error', (error) => this.#fail(new Error(`the ONNX session thread failed: ${error.message}`)));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the ONNX session thread exited (code ${code}) during this run; a new thread takes its place`)));
  }

  #fail(error: Error): void {
    const released = this.#exit !== undefined;
    this.#exit ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(this.#exit);
    this.#waiting.clear();
    for (const reply of this.#heapReplies.values()) reply(undefined);
    this.#heapReplies.clear();
    if (!released) {
      const onDeath = this.onDeath;
      this.onDeath = undefined;
      onDeath?.();
    }
  }
}
