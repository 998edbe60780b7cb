/**
 * Shared test helpers: temp config files, silent or captured loggers, and a one-call way to build the app over a
 * YAML config (registry created, models optionally loaded).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { loadConfigFile, type LoadedConfig } from '../../src/config/load.ts';
import { buildApp } from '../../src/http/app.ts';
import type { ModelRegistry } from '../../src/model/registry.ts';
import { createService, type Service } from '../../src/service.ts';
import { ConfigError } from '../../src/errors.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURES_DIR = resolve(import.meta.dirname, '../fixtures/code-models');
export const EXAMPLE_CONFIG = join(REPO_ROOT, 'examples/longshore.yaml');
export const IRIS_CLASS_PATH = `${join(REPO_ROOT, 'examples/iris/iris-model.ts')}#IrisModel`;

/** A config serving only the TypeScript iris model of the example (its coefficients path resolves next to the model). */
export function irisConfigYaml(): string {
  return `service_title: Iris only\nmodels:\n  - class_path: ${IRIS_CLASS_PATH}\n    configuration:\n      coefficients_path: ./iris_logreg_coefficients.json\n`;
}

/** Absolute class_path of a fixture model: `fixture('slow.ts', 'SlowModel')` → `/…/slow.ts#SlowModel`. */
export function fixture(file: string, exportName?: string): string {
  const path = join(FIXTURES_DIR, file);
  return exportName === undefined ? path : `${path}#${exportName}`;
}

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the test process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-test-'));
  tempDirs.push(dir);
  return dir;
}

/** Writes `yaml` as `name` in `dir` (a new temp dir by default) and returns the file's absolute path. */
export function writeConfig(yaml: string, options: { dir?: string; name?: string } = {}): string {
  const file = join(options.dir ?? tempDir(), options.name ?? 'longshore.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A JSON log line as pino writes it. */
export type LogLine = Record<string, unknown> & { level: number; msg?: string };

/** A logger whose lines are kept in memory, parsed, for assertions. */
export function captureLogger(level: pino.LevelWithSilent = 'info'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (chunk: string) => void lines.push(JSON.parse(chunk) as LogLine) });
  return { logger, lines };
}

export interface TestService {
  app: FastifyInstance;
  /** The service behind the app: metrics, dataplane, prediction logs. */
  service: Service;
  registry: ModelRegistry;
  loaded: LoadedConfig;
  file: string;
  close(): Promise<void>;
}

/**
 * Writes `yaml` to a temp dir, creates the registry and the app. With `load: true` (the default) every model's load
 * has finished before it returns; with `load: false` nothing was loaded (call `registry.loadAll()` yourself).
 */
export async function buildService(yaml: string, options: { load?: boolean; logger?: Logger } = {}): Promise<TestService> {
  return buildServiceFromFile(writeConfig(yaml), options);
}

/** Like buildService, for an existing config file. */
export async function buildServiceFromFile(file: string, options: { load?: boolean; logger?: Logger } = {}): Promise<TestService> {
  const logger = options.logger ?? silentLogger();
  const loaded = loadConfigFile(file);
  // As the server does: the repository's loads read the file again.
  const service = await createService(loaded, logger, { reread: () => loadConfigFile(file) });
  const { registry } = service;
  if (options.load ?? true) await registry.loadAll();
  const app = await buildApp({ config: loaded.config, dataplane: service.dataplane, metrics: service.metrics, logger });
  return { app, service, registry, loaded, file, close: () => app.close() };
}

/** YAML for a config serving the given models (each `{class_path, ...}` rendered as a models entry via JSON). */
export function configYaml(models: Record<string, unknown>[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...extra, models }, null, 2);
}

/** The ConfigError `run` throws (fails the test if it throws anything else, or nothing). */
export function thrownConfigError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}
