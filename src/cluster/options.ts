/** What `longshore serve --processes N` hands to the cluster: the validated config and the serve command's overrides. */
import type { LoadedConfig } from '../config/load.js';
import type { LogLevel } from '../config/schema.js';
import type { LogFormat } from '../logging/logger.js';

export interface ClusterServeOptions {
  readonly loaded: LoadedConfig;
  /** How many worker processes (at least 2; 1 never reaches the cluster code). */
  readonly processes: number;
  readonly host?: string;
  readonly port?: number;
  readonly logLevel?: LogLevel;
  readonly logFormat?: LogFormat;
  /** Reads the config again, as the CLI did (SIGHUP and server.watch in each worker). */
  readonly reread?: () => LoadedConfig;
}
