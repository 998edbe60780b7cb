// One worker thread holding one onnxruntime session (`workers: N` on an ONNX entry, see onnx-session.ts).
//
// onnxruntime-node runs a session on the thread that calls it, blocking that thread for the whole run (measured: a
// 4 ms batch of mlp_heavy lets the event loop turn once). Here the runs block this thread instead, so the main thread
// keeps reading, validating and answering requests on the other core while a batch computes. Plain JavaScript: it
// needs no TypeScript, so it starts without tsx.
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

ort.env.logLevel = 'fatal';

const { path, options } = workerData;

let session;
try {
  session = await ort.InferenceSession.create(path, options);
} catch (error) {
  parentPort.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
}

if (session) {
  parentPort.postMessage({ kind: 'ready', inputMetadata: plain(session.inputMetadata), outputMetadata: plain(session.outputMetadata) });
  parentPort.on('message', (message) => {
    if (message.kind === 'release') {
      void session.release().finally(() => parentPort.close());
      return;
    }
    if (message.kind === 'memory') {
      parentPort.postMessage({ kind: 'result', id: message.id, heapUsed: getHeapStatistics().used_heap_size });
      return;
    }
    void run(message);
  });
}

async function run({ id, feeds, fetches }) {
  try {
    const tensors = {};
    for (const [name, feed] of Object.entries(feeds)) tensors[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
    const results = await session.run(tensors, fetches);
    const outputs = {};
    for (const name of fetches) {
      const tensor = results[name];
      outputs[name] = { type: tensor.type, dims: [...tensor.dims], data: tensor.data };
    }
    parentPort.postMessage({ kind: 'result', id, outputs });
  } catch (error) {
    parentPort.postMessage({ kind: 'result', id, error: error instanceof Error ? error.message : String(error) });
  }
}

/** The metadata as plain data (what structured clone can carry). */
function plain(metadata) {
  return metadata.map((entry) => ({ ...entry, shape: entry.shape ? [...entry.shape] : entry.shape }));
}
