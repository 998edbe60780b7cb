/**
 * `serve` flags that set `server:` keys (--repository-api, --watch): laid over the config as read, so a reload that
 * reads the config again keeps them; and the refusal of the repository API with several processes.
 */
import { ConfigError } from '../errors.js';
import type { LoadedConfig } from './load.js';
import type { LongshoreConfig } from './schema.js';

/** `loaded` with `settings` over its `server:` keys (a new frozen config; `loaded` is left as it was). */
export function withServerSettings(loaded: LoadedConfig, settings: Partial<LongshoreConfig['server']>): LoadedConfig {
  if (Object.keys(settings).length === 0) return loaded;
  const config = Object.freeze({ ...loaded.config, server: Object.freeze({ ...loaded.config.server, ...settings }) });
  return { ...loaded, config };
}

/**
 * The repository API with `processes` > 1: each process has its own models, and a load or unload would reach the one
 * process its connection landed on. Refused at start (exit 2), saying what to do instead.
 */
export function repositoryApiInClusterError(processes: number): ConfigError {
  const message =
    `the model repository API (server.repository_api, --repository-api) needs one process, and processes is ${processes}: ` +
    'a load or unload would reach only the process its connection landed on. Change models with SIGHUP instead ' +
    '(the primary sends it on, and every process reloads its config), or run one process per container and scale with replicas';
  return new ConfigError(message, { details: [{ path: 'server.repository_api', message }] });
}
