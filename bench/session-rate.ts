/**
 * In-process ceiling: how fast onnxruntime-node runs one model at a batch size (default 1) with nothing around it (no HTTP, no JSON,
 * no validation). Session options match longshore's defaults (intraOpNumThreads 1, cpu provider); the input tensor is
 * built once from the first row of the model's fixture. Run as a child process so it has its own event loop.
 *
 *   node --import tsx bench/session-rate.ts MODEL.onnx FIXTURE.json MAX_SECONDS MAX_ITERATIONS [BATCH]
 *
 * Prints one JSON line: { runs, seconds, runsPerSecond, medianUs, p99Us }.
 */
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { percentile } from './stats.ts';

const WARMUP_RUNS = 300;

interface FixtureInput {
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** The first row of each fixture input, repeated `batch` times, shaped [batch, ...instance shape]. */
function firstRowFeeds(fixturePath: string, batch: number): Record<string, ort.Tensor> {
  const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as { inputs: Record<string, FixtureInput> };
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, input] of Object.entries(fixture.inputs)) {
    const instanceShape = input.shape.slice(1);
    const size = instanceShape.reduce((product, dim) => product * dim, 1);
    const first = input.data.slice(0, size);
    const row = Array.from({ length: batch }, () => first).flat();
    const dims = [batch, ...instanceShape];
    switch (input.datatype) {
      case 'FP32':
        feeds[name] = new ort.Tensor('float32', Float32Array.from(row), dims);
        break;
      case 'FP64':
        feeds[name] = new ort.Tensor('float64', Float64Array.from(row), dims);
        break;
      case 'INT32':
        feeds[name] = new ort.Tensor('int32', Int32Array.from(row), dims);
        break;
      case 'INT64':
        feeds[name] = new ort.Tensor('int64', BigInt64Array.from(row, (value) => BigInt(value)), dims);
        break;
      default:
        throw new Error(`session-rate: input '${name}' has datatype ${input.datatype}, which this benchmark does not build`);
    }
  }
  return feeds;
}

async function main(): Promise<void> {
  const [modelPath, fixturePath, maxSecondsText, maxIterationsText, batchText] = process.argv.slice(2);
  if (!modelPath || !fixturePath) throw new Error('usage: session-rate.ts MODEL.onnx FIXTURE.json [MAX_SECONDS] [MAX_ITERATIONS]');
  const maxMs = Number(maxSecondsText ?? '3') * 1000;
  const maxIterations = Number(maxIterationsText ?? '20000');

  ort.env.logLevel = 'fatal';
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    executionProviders: ['cpu'],
    logSeverityLevel: 4,
  });
  const feeds = firstRowFeeds(fixturePath, Number(batchText ?? '1'));

  for (let i = 0; i < WARMUP_RUNS; i++) await session.run(feeds);

  const durations = new Float64Array(maxIterations);
  let runs = 0;
  const start = performance.now();
  let now = start;
  while (runs < maxIterations && now - start < maxMs) {
    const before = now;
    await session.run(feeds);
    now = performance.now();
    durations[runs++] = now - before;
  }
  const seconds = (now - start) / 1000;
  const measured = durations.subarray(0, runs);
  await session.release();

  const result = {
    runs,
    seconds,
    runsPerSecond: runs / seconds,
    medianUs: percentile(measured, 0.5) * 1000,
    p99Us: percentile(measured, 0.99) * 1000,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
