/**
 * Run by onnx-unload-cycles.test.ts in a child process (node --expose-gc): creates, loads, predicts with, reads the
 * memory of and unloads an ONNX model CYCLES times, and prints as JSON the RSS before the first cycle (onnxruntime's
 * library already loaded) and after each cycle (after a full GC).
 * Usage: node --expose-gc --import tsx unload-cycles-child.ts <model.onnx> <workers> <cycles>
 */
import { OnnxModel } from '../../src/runtimes/onnx.ts';

const [path, workersArg, cyclesArg] = process.argv.slice(2);
const workers = Number(workersArg);
const cycles = Number(cyclesArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!path || !gc) throw new Error('usage: node --expose-gc --import tsx unload-cycles-child.ts <model.onnx> <workers> <cycles>');

gc();
const baseline = process.memoryUsage().rss;
const rss: number[] = [];
let estimate = 0;
for (let cycle = 0; cycle < cycles; cycle++) {
  const model = new OnnxModel(path, { intraOpThreads: 1, executionProviders: ['cpu'], workers });
  await model.load();
  const input = Object.fromEntries(
    (model.signature?.inputs ?? []).map((spec) => [spec.name, Array.from({ length: spec.shape.slice(1).reduce((a, b) => a * Math.max(b, 1), 1) }, () => 0.5)]),
  );
  await model.predictBatch([input, input]);
  estimate = (await model.memory()).bytes.onnx_session ?? 0;
  await model.unload();
  gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
  gc();
  rss.push(process.memoryUsage().rss);
}
process.stdout.write(JSON.stringify({ baseline, rss, estimate }));
