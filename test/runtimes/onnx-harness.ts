/**
 * Test harness for the ONNX runtime: builds an app from YAML written to a temp dir, and turns the reference fixtures'
 * flat tensors into REST records and back.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { buildApp } from '../../src/http/app.ts';
import type { ModelRegistry } from '../../src/model/registry.ts';
import { createService } from '../../src/service.ts';
import { tempDir } from '../helpers/service.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));

export interface Harness {
  app: FastifyInstance;
  registry: ModelRegistry;
  dir: string;
  close(): Promise<void>;
}

/** Writes `yaml` to a temp dir (with `files` beside it; removed when the test process exits), builds the app and loads every model. */
export async function serveYaml(yaml: string, files: Record<string, Uint8Array | string> = {}): Promise<Harness> {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const file = join(dir, 'longshore.yaml');
  writeFileSync(file, yaml);
  const loaded = parseConfig(yaml, file, dir);
  const logger = pino({ level: 'silent' });
  const service = await createService(loaded, logger);
  const { registry } = service;
  await registry.loadAll();
  const app = await buildApp({ config: loaded.config, dataplane: service.dataplane, metrics: service.metrics, logger });
  await app.ready();
  return {
    app,
    registry,
    dir,
    close: async () => {
      await app.close();
      await registry.unloadAll();
    },
  };
}

export interface FixtureTensor {
  datatype: string | null;
  shape: number[];
  data: unknown[];
}

export interface Fixture {
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
}

export function readFixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Fixture;
}

/** Row `row` of a flat row-major tensor, nested to the instance shape (shape without the batch dim). */
export function rowOf(tensor: FixtureTensor, row: number): unknown {
  const instance = tensor.shape.slice(1);
  const size = instance.reduce((a, b) => a * b, 1);
  return nest(tensor.data.slice(row * size, (row + 1) * size), instance);
}

function nest(flat: unknown[], shape: number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [first, ...rest] = shape as [number, ...number[]];
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), rest));
}

/** The records of every row of the fixture's inputs. */
export function inputRecords(fixture: Fixture): Record<string, unknown>[] {
  const rows = Object.values(fixture.inputs)[0]?.shape[0] ?? 0;
  return Array.from({ length: rows }, (_, row) =>
    Object.fromEntries(Object.entries(fixture.inputs).map(([name, tensor]) => [name, rowOf(tensor, row)])),
  );
}

/** Flattens nested arrays (or a scalar) into a list of leaves. */
export function flat(value: unknown): unknown[] {
  return Array.isArray(value) ? value.flatMap(flat) : [value];
}
