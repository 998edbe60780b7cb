/**
 * The body of one worker thread of a code model's pool (`workers: N`), started by `worker-entry.js`: constructs the
 * model from `workerData`, awaits its `load()`, reports the outcome (with the schemas `load()` may have set) to the main
 * thread, and returns piscina's task handler, which runs `predict()` / `predictBatch()` on this worker's own instance.
 * Unload requests arrive on a BroadcastChannel, since piscina cannot address one worker.
 */
import { getHeapStatistics, serialize } from 'node:v8';
import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import type { JsonSchema, Model, ModelClass } from '../model/contract.js';
import {
  isMemoryRequest,
  UNLOAD_REQUEST,
  WORKER_REPORT,
  type SerializedError,
  type WorkerData,
  type WorkerReply,
  type WorkerReport,
  type WorkerTask,
} from './worker-protocol.js';
import { exportOf } from './module-exports.js';
import { prepareImport } from './typescript-loader.js';

export type TaskHandler = (task: WorkerTask) => Promise<WorkerReply>;

/** Loads this worker's model and returns the task handler. Never throws: a failed load is reported and answered per call. */
export async function startWorker(): Promise<TaskHandler> {
  const data = workerData as WorkerData;
  const state: WorkerState = {};
  const loading = loadModel(data, state);
  listenForUnload(data.channel, loading, state); // before the load ends, so an unload request is never missed
  await loading;

  return async (task) => {
    const { model, loadError } = state;
    if (model === undefined || loadError !== undefined) {
      return { ok: false, error: { message: `this worker thread could not load the model: ${loadError?.message ?? 'unknown error'}` } };
    }
    let value: unknown;
    try {
      if (task.op === 'predict') value = await model.predict(task.input);
      else if (model.predictBatch) value = await model.predictBatch(task.inputs);
      else throw new Error('the model has no predictBatch()');
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
    try {
      return { ok: true, value: serialize(value) };
    } catch (error) {
      return {
        ok: false,
        error: {
          message:
            `its output cannot be passed back from the worker thread: ${(error as Error).message} ` +
            '(with workers, outputs must be structured-cloneable: no functions, symbols or promises)',
        },
      };
    }
  };
}

interface WorkerState {
  /** This worker's instance, once constructed (also when its load() then failed: unload() still runs on it). */
  model?: Model;
  loadError?: SerializedError;
}

/** Constructs the model, awaits its load() and reports the outcome with the schemas the model then has. */
async function loadModel(data: WorkerData, state: WorkerState): Promise<void> {
  try {
    await prepareImport(data.url);
    const module = (await import(data.url)) as Record<string, unknown>;
    // The main thread has already checked that this export is a model class.
    const model = new (exportOf(module, data.exportName) as ModelClass)(data.configuration);
    state.model = model;
    await model.load?.();
    report({
      [WORKER_REPORT]: 'loaded',
      threadId,
      input_schema: jsonClone(model.input_schema, 'input_schema'),
      output_schema: jsonClone(model.output_schema, 'output_schema'),
    });
  } catch (error) {
    state.loadError = describeError(error);
    report({ [WORKER_REPORT]: 'load-failed', threadId, error: state.loadError });
  }
}

function report(message: WorkerReport): void {
  parentPort?.postMessage(message);
}

/**
 * Answers memory requests with this thread's used heap (Node 20 has no Worker.getHeapStatistics()). Calls the model's
 * unload() when the main thread broadcasts the request (after this worker's load has settled), then
 * reports it, with the error if unload() threw.
 */
function listenForUnload(channelName: string, loading: Promise<void>, state: WorkerState): void {
  const channel = new BroadcastChannel(channelName);
  channel.unref(); // the pool, not this channel, decides how long the worker lives
  channel.onmessage = (event) => {
    if (isMemoryRequest(event.data)) {
      report({ [WORKER_REPORT]: 'memory', threadId, request: event.data.request, heapUsed: getHeapStatistics().used_heap_size });
      return;
    }
    if (event.data !== UNLOAD_REQUEST) return;
    void (async () => {
      await loading;
      try {
        await state.model?.unload?.();
        report({ [WORKER_REPORT]: 'unloaded', threadId });
      } catch (error) {
        report({ [WORKER_REPORT]: 'unloaded', threadId, error: describeError(error) });
      }
      channel.close();
    })();
  };
}

/**
 * A schema as plain JSON (TypeBox's symbol keys are dropped; nothing that ajv reads is lost). A schema that is not JSON
 * (a cycle, a BigInt) fails the load with a message naming it.
 */
function jsonClone(schema: JsonSchema | undefined, which: string): JsonSchema | undefined {
  if (schema === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(schema)) as JsonSchema;
  } catch (error) {
    throw new Error(`${which} cannot be sent to the main thread as JSON: ${(error as Error).message}`);
  }
}

/** The thrown value as data; a longshore catalogue error keeps its `type`, details and Retry-After. */
export function describeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { message: String(error) };
  const { type, details, retryAfterSeconds } = error as Error & { type?: unknown; details?: unknown; retryAfterSeconds?: unknown };
  return {
    message: error.message,
    name: error.name,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(typeof type === 'string' ? { type } : {}),
    ...(Array.isArray(details) ? { details: cloneDetails(details) } : {}),
    ...(typeof retryAfterSeconds === 'number' ? { retryAfterSeconds } : {}),
  };
}

function cloneDetails(details: unknown[]): { path: string; message: string }[] {
  return details.map((detail) => {
    const { path, message } = (detail ?? {}) as { path?: unknown; message?: unknown };
    return { path: String(path ?? ''), message: String(message ?? '') };
  });
}
