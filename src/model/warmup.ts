/**
 * Warmup (docs/self-tests.md#warmup): after load and before the model turns ready, its self-test examples run `warmup`
 * times through its served path (validation, decorators, the model's queue), each run checked: the first run is the
 * load-time self-test, and a failing run fails the load as a self-test does. A model without examples but with a tensor
 * call of its own (ONNX) runs a generated input instead (zeros of each input's type and shape, one row); the model may
 * refuse it, which is logged at warn and never fails the load. A code model without examples is not warmed.
 *
 * Warmup calls are not calls of the service: they never pass CallObservation (longshore_requests_total, the prediction
 * log), and the queue's measurements (batch size, queue wait, model time) stay quiet until the model is ready.
 */
import type { Logger } from 'pino';
import type { BatchObserver } from '../batching/batcher.js';
import { datatypeInfo } from '../tensors/datatypes.js';
import type { Tensor, TensorSignature } from '../tensors/tensor.js';
import type { CallPath } from './call-path.js';

/** What a warmup call carries: a self-test's context (longshore:cache lets it through to the model). */
const WARMUP_CONTEXT = Object.freeze({ selfTest: true });

/**
 * Runs the warmup of a loaded model whose call path is built and not yet handed out. Returns the failures of the first
 * failing run of the examples (the load fails with them), else an empty list.
 */
export async function warmUp(calls: CallPath, hasExamples: boolean, runs: number, logger: Logger): Promise<string[]> {
  if (runs === 0) return [];
  if (hasExamples) {
    for (let run = 0; run < runs; run++) {
      const failures = await calls.runSelfTests();
      if (failures.length > 0) return runs === 1 ? failures : failures.map((failure) => `${failure} (warmup run ${run + 1} of ${runs})`);
    }
    return [];
  }
  const signature = calls.model.signature;
  if (!calls.model.infer || !signature) return [];
  const generated = zeroInputs(signature);
  if (!generated) {
    logger.warn('no warmup: the model has no examples, and an input of its signature could not be generated (an input of an unknown type)');
    return [];
  }
  const outputs = signature.outputs.map((output) => output.name);
  try {
    for (let run = 0; run < runs; run++) await calls.runTensors(signature, generated.inputs, outputs, generated.rows, WARMUP_CONTEXT);
  } catch (error) {
    logger.warn({ err: error }, 'the model refused its generated warmup input (zeros); it is served without warmup. Give it examples to warm it with real inputs');
  }
  return [];
}

/**
 * One input of the signature made of zeros (empty strings for BYTES): every input, each dynamic dimension 1. Undefined
 * when an input's datatype is unknown.
 */
export function zeroInputs(signature: TensorSignature): { readonly inputs: Map<string, Tensor>; readonly rows: number } | undefined {
  const inputs = new Map<string, Tensor>();
  let rows = 1;
  for (const spec of signature.inputs) {
    const info = datatypeInfo(spec.datatype);
    if (!info) return undefined;
    const shape = spec.shape.map((dim) => (dim < 0 ? 1 : dim));
    if (inputs.size === 0) rows = shape[0] ?? 1;
    inputs.set(spec.name, { name: spec.name, datatype: spec.datatype, shape, data: info.allocate(shape.reduce((size, dim) => size * dim, 1)) });
  }
  return { inputs, rows };
}

/**
 * The queue's observer, quiet while the model warms up: what counts calls (batch size, queue wait, model time,
 * rejections) is dropped until `open()`; what tracks state (queue depth, stuck calls) always passes.
 */
export class WarmupGate {
  #open = false;
  readonly observer: BatchObserver | undefined;

  constructor(inner: BatchObserver | undefined) {
    this.observer = inner && {
      queueDepth: (rows) => inner.queueDepth(rows),
      waited: (seconds) => {
        if (this.#open) inner.waited(seconds);
      },
      ran: (rows, seconds) => {
        if (this.#open) inner.ran(rows, seconds);
      },
      rejected: (reason) => {
        if (this.#open) inner.rejected(reason);
      },
      stuck: (batches) => inner.stuck?.(batches),
    };
  }

  /** The model is ready: its queue's measurements count from now on. */
  open(): void {
    this.#open = true;
  }
}
