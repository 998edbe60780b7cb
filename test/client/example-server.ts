/** Starts a real longshore server over a config (the bundled example by default) on 127.0.0.1, port 0, for client tests. */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { EXAMPLE_CONFIG, silentLogger, writeConfig } from '../helpers/service.ts';

/** The example service (iris_model, iris_onnx, topic), every model loaded. */
export async function startExampleServer(): Promise<RunningServer> {
  return startFromFile(EXAMPLE_CONFIG);
}

/** A server over `yaml` (written to a temp dir); waits until every model's load has finished. */
export async function startServerFromYaml(yaml: string): Promise<RunningServer> {
  return startFromFile(writeConfig(yaml));
}

async function startFromFile(file: string): Promise<RunningServer> {
  const loaded = parseConfig(readFileSync(file, 'utf8'), file, dirname(file));
  const server = await startServer({ loaded, host: '127.0.0.1', port: 0, logger: silentLogger() });
  await server.modelsLoaded;
  return server;
}

/** Two iris rows: setosa (label 0) and versicolor (label 1). */
export const IRIS_ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [7.0, 3.2, 4.7, 1.4],
] as const;
