/**
 * A one-off comparison, not part of `npm run bench`: the transformers runtime's choice (@huggingface/tokenizers plus
 * longshore's own ONNX session path) against transformers.js (`@huggingface/transformers`), in-process, on
 * test/fixtures/hf/tiny-bert-embeddings (feature-extraction, mean pooling + normalize). BENCHMARKS.md reports it.
 *
 * transformers.js is NOT a dependency of longshore and must not become one. Install it outside the repository:
 *   mkdir /tmp/tfjs && cd /tmp/tfjs && npm init -y && ONNXRUNTIME_NODE_INSTALL=skip npm install @huggingface/transformers@4.3.2
 * then `node --import tsx bench/transformers-js.ts` (TFJS_DIR=/tmp/tfjs is the default). Without it, the script says
 * so and exits 0.
 *
 * Method: each side runs in its own fresh process (so each loads its own onnxruntime-node, and cold load is a real
 * cold load), sides alternating over BENCH_ROUNDS rounds (default 3); the table shows medians. Both sides use one
 * intra-op thread, the CPU provider, ORT's default graph optimisation, and pad a batch to its longest text. Per side:
 *   - cold load: from the library's import to the model ready (longshore: createTransformersModel + load(), its
 *     TypeScript compiled by tsx on the way; transformers.js: import + pipeline()), then the first call;
 *   - texts/s at batch 1 (one text per call) and batch 32 (32 texts per call), texts cycled from the reference's
 *     cases (7 texts, 2 to 112 tokens; a batch of 32 holds the 112-token one and is padded to it), and again over the
 *     6 short ones (2 to 24 tokens), BENCH_SECONDS (default 3) per measurement after a warm-up;
 *   - tokenization alone, µs per text, over the same texts (longshore: TextEncoder.encode; transformers.js: the
 *     pipeline's tokenizer called on one text with truncation);
 *   - the largest difference from the Python reference embeddings, so both are known to compute the same thing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { markdownTable } from './table.ts';

const ROOT = join(import.meta.dirname, '..');
const MODEL_DIR = join(ROOT, 'test/fixtures/hf/tiny-bert-embeddings');
const REFERENCE = join(ROOT, 'test/fixtures/hf/tiny-bert-embeddings.reference.json');
const BATCH = 32;

interface Case {
  readonly text: string;
  readonly embedding: number[];
}

interface SideResult {
  readonly side: 'longshore' | 'transformers.js';
  readonly importAndLoadMs: number;
  readonly firstCallMs: number;
  readonly batch1TextsPerS: number;
  readonly batch32TextsPerS: number;
  readonly batch1ShortTextsPerS: number;
  readonly batch32ShortTextsPerS: number;
  readonly tokenizeUsPerText: number;
  readonly maxDiff: number;
}

/** What a side offers the measurement: embed texts, tokenize one text. */
interface Side {
  embed(texts: string[]): Promise<number[][]>;
  tokenize(text: string): unknown;
}

const cases = (JSON.parse(readFileSync(REFERENCE, 'utf8')) as { cases: Case[] }).cases;
const texts = cases.map((one) => one.text);
/** The texts without the one long sentence (112 tokens), which sets the padded length of every batch it is in. */
const shortTexts = cases.filter((one) => one.text.length < 200).map((one) => one.text);

/** Where transformers.js can be imported from: the repository's own resolution, else TFJS_DIR; undefined if nowhere. */
function transformersJsUrl(): string | undefined {
  const dirs = [ROOT, process.env['TFJS_DIR'] ?? '/tmp/tfjs'];
  for (const dir of dirs) {
    try {
      return pathToFileURL(createRequire(join(dir, 'package.json')).resolve('@huggingface/transformers')).href;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

async function longshoreSide(): Promise<Side> {
  const { createTransformersModel } = await import('../src/runtimes/transformers/index.ts');
  const entry = { model_path: MODEL_DIR, runtime: 'transformers', intra_op_threads: 1, execution_providers: ['cpu'], workers: 0 };
  const model = createTransformersModel(entry as unknown as Parameters<typeof createTransformersModel>[0], MODEL_DIR);
  await model.load();
  const { readHfFolder, maxLengthOf } = await import('../src/runtimes/transformers/hf-folder.ts');
  const { TextEncoder } = await import('../src/runtimes/transformers/text-encoder.ts');
  const folder = readHfFolder(MODEL_DIR);
  const encoder = new TextEncoder(folder.tokenizer, folder.tokenizerConfig, maxLengthOf(folder));
  return {
    embed: async (batch) => (await model.predictBatch(batch.map((text) => ({ text })))).map((output) => output['embedding'] as number[]),
    tokenize: (text) => encoder.encode(text),
  };
}

async function transformersJsSide(url: string): Promise<Side> {
  // Typed loosely on purpose: the package is not installed in the repository, so its types are not available here.
  const library = (await import(url)) as {
    env: { localModelPath: string; allowRemoteModels: boolean; allowLocalModels: boolean };
    pipeline: (task: string, model: string, options: object) => Promise<{
      (texts: string[], options: object): Promise<{ tolist(): number[][] }>;
      tokenizer: (text: string, options: object) => unknown;
    }>;
  };
  library.env.localModelPath = join(MODEL_DIR, '..');
  library.env.allowRemoteModels = false;
  library.env.allowLocalModels = true;
  const extractor = await library.pipeline('feature-extraction', 'tiny-bert-embeddings', {
    dtype: 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: 1 },
  });
  return {
    embed: async (batch) => (await extractor(batch, { pooling: 'mean', normalize: true })).tolist(),
    tokenize: (text) => extractor.tokenizer(text, { truncation: true }),
  };
}

/** Texts per second, calling `embed` with `batch` texts at a time for about `seconds`. */
async function rate(side: Side, pool: readonly string[], batch: number, seconds: number): Promise<number> {
  const call = (offset: number) => side.embed(Array.from({ length: batch }, (_, i) => pool[(offset + i) % pool.length] as string));
  for (let i = 0; i < Math.max(20, 200 / batch); i++) await call(i * batch);
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await call(done);
    done += batch;
  }
  return done / ((performance.now() - start) / 1000);
}

function tokenizeUs(side: Side, seconds: number): number {
  for (let i = 0; i < 2000; i++) side.tokenize(texts[i % texts.length] as string);
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (const text of texts) side.tokenize(text);
    done += texts.length;
  }
  return ((performance.now() - start) * 1000) / done;
}

async function runSide(name: SideResult['side'], seconds: number): Promise<SideResult> {
  const start = performance.now();
  const url = transformersJsUrl();
  const side = name === 'longshore' ? await longshoreSide() : await transformersJsSide(url as string);
  const loaded = performance.now();
  const [first] = await side.embed([texts[0] as string]);
  const firstCallMs = performance.now() - loaded;
  const all = await side.embed(texts);
  const maxDiff = Math.max(...cases.map((one, i) => Math.max(...one.embedding.map((value, j) => Math.abs(value - ((all[i] ?? first ?? [])[j] ?? Number.NaN))))));
  return {
    side: name,
    importAndLoadMs: loaded - start,
    firstCallMs,
    batch1TextsPerS: await rate(side, texts, 1, seconds),
    batch32TextsPerS: await rate(side, texts, BATCH, seconds),
    batch1ShortTextsPerS: await rate(side, shortTexts, 1, seconds),
    batch32ShortTextsPerS: await rate(side, shortTexts, BATCH, seconds),
    tokenizeUsPerText: tokenizeUs(side, Math.min(seconds, 2)),
    maxDiff,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function report(results: SideResult[]): string {
  const sides = ['longshore', 'transformers.js'] as const;
  const of = (side: string, key: keyof Omit<SideResult, 'side'>) => median(results.filter((one) => one.side === side).map((one) => one[key]));
  const row = (title: string, key: keyof Omit<SideResult, 'side'>, format: (value: number) => string) => [title, ...sides.map((side) => format(of(side, key))), `${(of('longshore', key) / of('transformers.js', key)).toFixed(2)}×`];
  const fixed = (digits: number) => (value: number) => value.toFixed(digits);
  return markdownTable(
    ['Measure (median of rounds)', 'longshore', 'transformers.js', 'longshore / transformers.js'],
    [
      row('import + load, ms', 'importAndLoadMs', fixed(0)),
      row('first call, ms', 'firstCallMs', fixed(1)),
      row('texts/s, batch 1, all 7 texts', 'batch1TextsPerS', fixed(0)),
      row(`texts/s, batch ${BATCH}, all 7 texts`, 'batch32TextsPerS', fixed(0)),
      row('texts/s, batch 1, 6 short texts', 'batch1ShortTextsPerS', fixed(0)),
      row(`texts/s, batch ${BATCH}, 6 short texts`, 'batch32ShortTextsPerS', fixed(0)),
      row('tokenization, µs/text', 'tokenizeUsPerText', fixed(1)),
      row('max |difference| from the Python reference', 'maxDiff', (value) => value.toExponential(1)),
    ],
    new Set([0]),
  );
}

async function main(): Promise<void> {
  const seconds = Number(process.env['BENCH_SECONDS'] ?? 3);
  const sideArg = process.argv.indexOf('--side');
  if (sideArg >= 0) {
    const result = await runSide(process.argv[sideArg + 1] as SideResult['side'], seconds);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const url = transformersJsUrl();
  if (url === undefined || !existsSync(MODEL_DIR)) {
    process.stdout.write('transformers-js: @huggingface/transformers is not installed (it is no dependency of longshore); ' +
      'install it in TFJS_DIR (default /tmp/tfjs) to run this comparison, see the top of bench/transformers-js.ts. Skipped.\n');
    return;
  }
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
  const results: SideResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const side of ['longshore', 'transformers.js'] as const) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--side', side], { cwd: ROOT, encoding: 'utf8', env: process.env });
      if (child.status !== 0) throw new Error(`${side} failed (exit ${child.status}): ${child.stderr}`);
      const result = JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as SideResult;
      process.stderr.write(`round ${round} ${side}: ${JSON.stringify(result)}\n`);
      results.push(result);
    }
  }
  process.stdout.write(`transformers.js from ${url}; ${rounds} round(s), ${seconds} s per rate\n\n${report(results)}\n`);
}

await main();
