/**
 * A real longshore server in this test process (127.0.0.1, a free port), and the JSON request most tests send to one.
 */
import type { Logger } from 'pino';
import { loadConfigFile } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { silentLogger } from './service.ts';

/** Starts a server over the config file `file` on 127.0.0.1, port 0, and waits until every model's load has finished. */
export async function startServerFromFile(file: string, logger: Logger = silentLogger()): Promise<RunningServer> {
  const server = await startServer({ loaded: loadConfigFile(file), host: '127.0.0.1', port: 0, logger });
  await server.modelsLoaded;
  return server;
}

/** POSTs `body` as JSON to `url`; resolves with the status and the parsed answer. Fails after `timeoutMs`. */
export async function postJson<T = Record<string, unknown>>(url: string, body: unknown, timeoutMs = 10_000): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: (await response.json()) as T };
}
