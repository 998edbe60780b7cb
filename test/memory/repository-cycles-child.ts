/**
 * Run by repository-cycles.test.ts in a child process (node --expose-gc): serves mlp_heavy.onnx (with `workers` worker
 * threads, 0: the main thread) behind a real server with server.repository_api on, then CYCLES times unloads and loads
 * it again through POST /v2/repository/models/heavy/unload and /load and runs one prediction; prints as JSON the RSS
 * before the first cycle (the model loaded and called once), and the RSS and the main thread's used heap after each
 * cycle (after a full GC).
 * Usage: node --expose-gc --import tsx repository-cycles-child.ts <model.onnx> <workers> <cycles>
 */
import { resolve } from 'node:path';
import pino from 'pino';
import { loadConfigFile } from '../../src/config/load.ts';
import { startServer } from '../../src/server.ts';
import { configYaml, writeConfig } from '../helpers/service.ts';

const [path, workersArg, cyclesArg] = process.argv.slice(2);
const workers = Number(workersArg);
const cycles = Number(cyclesArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!path || !gc) throw new Error('usage: node --expose-gc --import tsx repository-cycles-child.ts <model.onnx> <workers> <cycles>');

const file = writeConfig(configYaml([{ model_path: resolve(path), qualified_name: 'heavy', ...(workers > 0 ? { workers } : {}) }], { server: { repository_api: true } }));
const server = await startServer({ loaded: loadConfigFile(file), host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }) });
await server.modelsLoaded;

const input = { x: Array.from({ length: 512 }, (_, index) => (index % 7) / 7) };
async function call(route: string, body: unknown = {}): Promise<void> {
  const response = await fetch(`${server.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${route}: ${response.status} ${text}`);
}
async function settle(): Promise<{ rss: number; heapUsed: number }> {
  gc!();
  await new Promise((resolve) => setTimeout(resolve, 10));
  gc!();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

await call('/api/models/heavy/prediction', input);
const baseline = (await settle()).rss;
const rss: number[] = [];
const heap: number[] = [];
for (let cycle = 0; cycle < cycles; cycle++) {
  await call('/v2/repository/models/heavy/unload');
  await call('/v2/repository/models/heavy/load');
  await call('/api/models/heavy/prediction', input);
  const memory = await settle();
  rss.push(memory.rss);
  heap.push(memory.heapUsed);
}
await server.close();
process.stdout.write(JSON.stringify({ baseline, rss, heap }));
