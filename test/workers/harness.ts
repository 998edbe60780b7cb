/**
 * Test harness for `workers: N`: a real server on 127.0.0.1:0 from a YAML config, with small fetch helpers.
 */
import { loadConfigFile } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { configYaml, silentLogger, writeConfig } from '../helpers/service.ts';

export interface WorkerService {
  server: RunningServer;
  url: string;
  /** POSTs `body` as JSON to `path`; resolves with the status and the parsed body. */
  post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> & unknown[] }>;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Starts a server for `models` (each rendered as a models entry) and waits until every model has loaded or failed. */
export async function serveModels(models: Record<string, unknown>[]): Promise<WorkerService> {
  const loaded = loadConfigFile(writeConfig(configYaml(models)));
  const server = await startServer({ loaded, host: '127.0.0.1', port: 0, logger: silentLogger() });
  await server.modelsLoaded;
  const { url } = server;
  return {
    server,
    url,
    post: async (path, body) => {
      const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> & unknown[] };
    },
    get: async (path) => {
      const response = await fetch(`${url}${path}`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    close: () => server.close(),
  };
}

/** Milliseconds `action` takes. */
export async function timed<T>(action: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await action();
  return { ms: performance.now() - started, value };
}
