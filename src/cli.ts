/**
 * The `longshore` command: parses argv, runs serve / openapi / validate, and picks the exit code
 * (0 ok, 1 runtime failure, 2 bad configuration).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino, type Logger } from 'pino';
import { stringify as toYaml } from 'yaml';
import { configError, findConfigFile, loadConfigFile, noModelsError, parseConfig, withExtraModels, type LoadedConfig } from './config/load.js';
import { modelDirFromFlags, type ModelDirFlags } from './config/model-dir.js';
import { modelFlagEntries } from './config/model-flags.js';
import { repositoryApiInClusterError, withServerSettings } from './config/server-flags.js';
import { LOG_LEVELS, type LogLevel } from './config/schema.js';
import { ConfigError } from './errors.js';
import { describeListenError } from './listen-errors.js';
import { readTlsMaterial } from './http/tls.js';
import { LOG_FORMATS, type LogFormat } from './logging/logger.js';
import type { Service } from './service.js';
import { runDockerfile } from './scaffold/dockerfile.js';
import { runInit } from './scaffold/init.js';
import { LONGSHORE_VERSION } from './version.js';

export const EXIT_OK = 0;
export const EXIT_RUNTIME_FAILURE = 1;
export const EXIT_BAD_CONFIG = 2;

/** Runs the CLI; resolves with the exit code for one-shot commands (serve keeps running until a signal). */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  let exitCode: number | undefined = EXIT_OK;
  const program = new Command('longshore')
    .description('Serve ONNX and TypeScript models over REST and the Open Inference Protocol.')
    .version(LONGSHORE_VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  const configOption = () =>
    new Option('-c, --config <file>', 'config file (default: $LONGSHORE_CONFIG, $REST_CONFIG, ./longshore.yaml, ./longshore.yml, ./rest_config.yaml)');
  const modelOption = () =>
    new Option('-m, --model <name=file.onnx>', 'serve an ONNX file with no config (repeatable; name defaults to the file name)')
      .argParser((value: string, previous: string[] = []) => [...previous, value]);
  const modelDirOption = () =>
    new Option('--model-dir <dir>', 'serve the .onnx file(s) in dir (or dir itself if it is a file), e.g. /mnt/models under KServe');
  const modelNameOption = () => new Option('--model-name <name>', 'name of the one model --model-dir finds (default: its file name)');
  const modelRepositoryOption = () =>
    new Option('--model-repository <dir>', 'serve the models of a model repository folder, <dir>/<name>/<version>/model.onnx (overrides model_repository)');

  program
    .command('serve')
    .description('load the models and serve them over HTTP')
    .addOption(configOption())
    .addOption(modelOption())
    .addOption(modelDirOption())
    .addOption(modelNameOption())
    .addOption(modelRepositoryOption())
    .addOption(new Option('--host <host>', 'address to bind (overrides server.host)').env('LONGSHORE_HOST'))
    .addOption(new Option('-p, --port <port>', 'port to listen on (overrides server.port)').env('LONGSHORE_PORT').argParser(parsePort))
    .addOption(
      new Option('--processes <n|auto>', 'server processes sharing the port, each with its own models; auto: one per core (overrides server.processes)')
        .env('LONGSHORE_PROCESSES')
        .argParser(parseProcesses),
    )
    .addOption(new Option('--log-level <level>', 'log level (overrides logging.level)').choices(LOG_LEVELS).env('LONGSHORE_LOG_LEVEL'))
    .addOption(
      new Option('--log-format <format>', 'json lines, or pretty for a terminal (overrides logging.format)').choices(LOG_FORMATS).env('LONGSHORE_LOG_FORMAT'),
    )
    .addOption(new Option('--repository-api', 'serve the model repository API: load, unload, index (overrides server.repository_api)'))
    .addOption(new Option('--watch', 'reload when the config or a model file changes (overrides server.watch)'))
    .action(async (options: ServeFlags) => {
      const settings = { ...(options.repositoryApi ? { repository_api: true } : {}), ...(options.watch ? { watch: true } : {}) };
      // The repository's loads, SIGHUP and the watch read the config again exactly as here, flags included.
      const reread = () => withServerSettings(readConfig(options, env), settings);
      const loaded = reread();
      const processes = processCount(options.processes ?? loaded.config.server.processes);
      const serving = { loaded, host: options.host, port: options.port, logLevel: options.logLevel, logFormat: options.logFormat, reread };
      if (processes > 1) {
        if (loaded.config.server.repository_api) throw repositoryApiInClusterError(processes);
        // A TLS file that is missing fails here, once, with exit 2, not in every worker the primary would restart.
        readTlsMaterial(loaded);
        // Only now is the cluster code loaded: one process (the default) runs exactly as without it.
        const { serveCluster } = await import('./cluster/serve.js');
        await serveCluster({ ...serving, processes });
      } else {
        // The server's modules (fastify, its plugins, prom-client) load only for the commands that need them.
        const { startServer } = await import('./server.js');
        await startServer({ ...serving, handleSignals: true });
      }
      exitCode = undefined;
    });

  program
    .command('openapi')
    .description('write the OpenAPI document the server would serve, without listening')
    .addOption(configOption())
    .addOption(modelOption())
    .addOption(modelDirOption())
    .addOption(modelNameOption())
    .addOption(modelRepositoryOption())
    .option('-o, --output <file>', 'where to write it; .json or .yaml/.yml picks the format, - writes JSON to stdout', 'openapi.yaml')
    .action(async (options: ModelFlags & { output: string }) => {
      const loaded = readConfig(options, env);
      exitCode = await withLoadedModels(loaded, async (service, logger) => {
        const { buildApp } = await import('./http/app.js');
        const app = await buildApp({ config: loaded.config, dataplane: service.dataplane, metrics: service.metrics, logger });
        await app.ready();
        const document = app.openapiDocument();
        await app.close();
        writeOutput(options.output, /\.ya?ml$/i.test(options.output) ? toYaml(document) : `${JSON.stringify(document, null, 2)}\n`);
      });
    });

  program
    .command('validate')
    .description('check the config and load every model; exit 0 if all is well, 2 with the problems listed otherwise')
    .addOption(configOption())
    .addOption(modelOption())
    .addOption(modelDirOption())
    .addOption(modelNameOption())
    .addOption(modelRepositoryOption())
    .action(async (options: ModelFlags) => {
      const loaded = readConfig(options, env);
      readTlsMaterial(loaded);
      exitCode = await withLoadedModels(loaded, async ({ registry }) => {
        const names = registry.list().map((model) => `${model.name} (${model.metadata.version})`);
        // No models passes only with health.ready_without_models (readConfig refuses it otherwise).
        const what = names.length === 0 ? 'serves no model (health.ready_without_models: true)' : `${names.length} model(s) loaded: ${names.join(', ')}`;
        process.stdout.write(`ok: ${loaded.file} is valid and ${what}\n`);
      });
    });

  program
    .command('bench')
    .description('measure the server on your models: req/s, latency and where the time went, next to the bare model in-process')
    .addOption(configOption())
    .addOption(
      new Option('-m, --model <name|name=file.onnx>', 'a model of the config to measure, or an ONNX file (or Hugging Face folder) served with no config (repeatable)')
        .argParser((value: string, previous: string[] = []) => [...previous, value]),
    )
    .addOption(new Option('--concurrency <list>', 'concurrent connections, comma-separated').default([1, 8, 64], '1,8,64').argParser(parseConcurrency))
    .addOption(new Option('--duration <time>', 'measured time per concurrency: 10s, 500ms, 1m').default(10_000, '10s').argParser(parseDuration))
    .addOption(new Option('--protocol <protocol>', 'what the requests speak').choices(['rest', 'v2', 'v2-binary', 'grpc']).default('rest'))
    .addOption(new Option('--url <url>', 'measure a running server instead of starting one (no in-process comparison)'))
    .addOption(new Option('--grpc <host:port>', "with --protocol grpc and --url: the server's gRPC address (in-process, its own gRPC port is opened)"))
    .addOption(new Option('--json', 'print only the JSON document on stdout (the table goes to stderr)'))
    .action(async (options: BenchFlags) => {
      // A --model that is a file (name=path, or a path that exists) is served; a bare name picks a model of the config.
      const isFile = (spec: string) => spec.includes('=') || existsSync(resolve(spec));
      const files = (options.model ?? []).filter(isFile);
      // name=path is measured by its name; a file given by its path alone (its name is the runtime's) measures all.
      const named = files.map((spec) => (spec.indexOf('=') > 0 ? spec.slice(0, spec.indexOf('=')) : undefined));
      const names = named.includes(undefined) ? [] : [...(options.model ?? []).filter((spec) => !isFile(spec)), ...(named as string[])];
      const { runBench } = await import('./loadtest/bench.js');
      const settings = { protocol: options.protocol, concurrency: options.concurrency, durationMs: options.duration, json: options.json === true, url: options.url, grpc: options.grpc, models: names };
      exitCode = await runBench(settings, () => readConfig({ config: options.config, model: files }, env));
    });

  program
    .command('init')
    .description('scaffold a new project (package.json, longshore.yaml, a TypeScript model, a test) in dir; never overwrites a file')
    .argument('[dir]', 'directory to write it in, created if missing', '.')
    .option('--name <name>', 'npm package name (default: the directory name), made a valid npm name')
    .action((dir: string, options: { name?: string }) => {
      exitCode = runInit(dir, options);
    });

  program
    .command('dockerfile')
    .description('print a Dockerfile for a project made by init (--write: write it and a .dockerignore; never overwrites a file)')
    .option('--write', 'write Dockerfile and .dockerignore into --dir instead of printing')
    .option('--dir <dir>', 'the project directory', '.')
    .action((options: { write?: boolean; dir: string }) => {
      exitCode = runDockerfile(options);
    });

  try {
    await program.parseAsync(['node', 'longshore', ...argv]);
  } catch (error) {
    return exitCodeFor(error);
  }
  return exitCode;
}

/** The flags of the commands that load models (serve, openapi, validate), as commander parses them. */
interface ModelFlags extends ModelDirFlags {
  readonly config?: string;
  readonly model?: string[];
  readonly modelRepository?: string;
}

/**
 * The config file (when one is named or found), plus models given with --model. With --model alone no file is
 * needed: the service runs on defaults. A config that serves no model is refused unless health.ready_without_models.
 */
function readConfig(flags: ModelFlags, env: NodeJS.ProcessEnv): LoadedConfig {
  const loaded = readConfigAndFlags(flags, env);
  const empty = noModelsError(loaded);
  if (empty) throw empty;
  return loaded;
}

function readConfigAndFlags(flags: ModelFlags, env: NodeJS.ProcessEnv): LoadedConfig {
  const cwd = process.cwd();
  const explicit = flags.config;
  const extra = modelFlagEntries(flags.model ?? []);
  const fromDir = modelDirFromFlags(flags, cwd);
  for (const warning of fromDir?.warnings ?? []) process.stderr.write(`longshore: ${warning}\n`);
  // --model-repository replaces the file's model_repository key; its models come after those of models:.
  const modelRepository = flags.modelRepository === undefined ? undefined : resolve(cwd, flags.modelRepository);
  const options = { env, modelRepository, onWarning: (warning: string) => process.stderr.write(`longshore: warning: ${warning}\n`) };
  // LONGSHORE_<SECTION>__<KEY> variables go over the file (config/env-overlay.ts); flags go over both, later.
  if (extra.length === 0 && !fromDir && modelRepository === undefined) return loadConfigFile(findConfigFile(explicit, env, cwd), options);
  const base = explicit !== undefined || env.LONGSHORE_CONFIG || env.REST_CONFIG
    ? loadConfigFile(findConfigFile(explicit, env, cwd), options)
    : parseConfig('', '<command line>', cwd, options);
  if (extra.length === 0 && !fromDir) return base;
  return withExtraModels(base, [...extra, ...(fromDir?.models ?? [])], cwd);
}

/** `--output`: `-` writes to stdout; a file is written and its path said on stderr. */
function writeOutput(output: string, text: string): void {
  if (output === '-') {
    process.stdout.write(text);
    return;
  }
  const path = resolve(output);
  try {
    writeFileSync(path, text);
  } catch (error) {
    throw new CommandError(
      `cannot write the OpenAPI document to ${path}: ${(error as Error).message}; pass --output a file in a writable directory that exists, or - for stdout`,
    );
  }
  process.stderr.write(`wrote ${path}\n`);
}

/** A failure a command explains itself: one readable line on stderr and exit 1, no stack. */
class CommandError extends Error {}

/** Creates and loads every model, runs `action`, unloads. A model that fails to load is a config problem (exit 2). */
async function withLoadedModels(loaded: LoadedConfig, action: (service: Service, logger: Logger) => Promise<void>): Promise<number> {
  const logger = commandLogger();
  const { createService } = await import('./service.js');
  const service = await createService(loaded, logger);
  const { registry } = service;
  await registry.loadAll();
  try {
    const failed = registry.list().filter((model) => model.state === 'failed');
    if (failed.length > 0) {
      const problems = failed.map((model) =>
        loaded.problem(['models', service.entryIndexOf(model.name) ?? 0], `model '${model.name}' failed to load: ${model.error ?? 'unknown error'}`),
      );
      process.stderr.write(`${configError(loaded.file, problems).message}\n`);
      return EXIT_BAD_CONFIG;
    }
    await action(service, logger);
    return EXIT_OK;
  } finally {
    await service.unloadAll();
  }
}

/** The log message of a model's failed load, which withLoadedModels reports itself at the line of the model's entry. */
const LOAD_FAILED = 'model failed to load';

/**
 * The logger of `openapi` and `validate`: each warning or error as one readable line on stderr
 * (`longshore: warning: model 'iris': ...`), never a JSON line or a stack, and nothing for a model's failed load,
 * which the command reports itself as a config problem. `serve` keeps its JSON logs.
 */
function commandLogger(): Logger {
  const write = (text: string) => {
    let line: { level?: number; msg?: string; model?: unknown; note?: unknown; err?: { message?: unknown } };
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      return;
    }
    if (line.msg === LOAD_FAILED) return;
    const level = (line.level ?? 0) >= 50 ? 'error' : 'warning';
    const model = typeof line.model === 'string' ? `model '${line.model}': ` : '';
    const reason = [line.note, line.err?.message].filter((part) => typeof part === 'string' && part !== '').join(': ');
    process.stderr.write(`longshore: ${level}: ${model}${line.msg ?? ''}${reason === '' ? '' : `: ${reason}`}\n`);
  };
  return pino({ level: 'warn' }, { write });
}

function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    return EXIT_BAD_CONFIG;
  }
  const commanderError = error as { code?: string; exitCode?: number };
  if (commanderError.code?.startsWith('commander.')) {
    if (commanderError.code === 'commander.helpDisplayed' || commanderError.code === 'commander.version') return EXIT_OK;
    return EXIT_BAD_CONFIG;
  }
  const problem = error instanceof CommandError ? error.message : describeListenError(error);
  if (problem) {
    process.stderr.write(`longshore: ${problem}\n`);
    return EXIT_RUNTIME_FAILURE;
  }
  process.stderr.write(`longshore: ${(error as Error).stack ?? String(error)}\n`);
  return EXIT_RUNTIME_FAILURE;
}

type Processes = number | 'auto';

type BenchFlags = Pick<ModelFlags, 'config' | 'model'> & {
  concurrency: number[];
  duration: number;
  protocol: 'rest' | 'v2' | 'v2-binary' | 'grpc';
  url?: string;
  grpc?: string;
  json?: boolean;
};

/** --concurrency 1,8,64: whole numbers from 1 to 1024. */
function parseConcurrency(value: string): number[] {
  const list = value.split(',').map((part) => part.trim());
  if (list.some((part) => !/^\d{1,4}$/.test(part) || Number(part) < 1 || Number(part) > 1024)) {
    throw new InvalidArgumentError(`must be whole numbers from 1 to 1024 separated by commas, e.g. 1,8,64, got '${value}'`);
  }
  return list.map(Number);
}

/** --duration 10s, 500ms, 1m, or a number of seconds: at least 100 ms, at most 1 h. */
function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  const ms = match ? Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000 }[match[2] ?? 's'] ?? 1000) : Number.NaN;
  if (!(ms >= 100 && ms <= 3_600_000)) throw new InvalidArgumentError(`must be a time from 100ms to 60m such as 10s, 500ms or 1m, got '${value}'`);
  return ms;
}

type ServeFlags = ModelFlags & {
  host?: string;
  port?: number;
  processes?: Processes;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  repositoryApi?: boolean;
  watch?: boolean;
};

/** --processes: an integer of at least 1, or auto. */
function parseProcesses(value: string): Processes {
  if (value === 'auto') return value;
  const processes = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(processes >= 1)) throw new InvalidArgumentError(`must be an integer of at least 1, or auto, got '${value}'`);
  return processes;
}

/** How many server processes: auto is one per core the process may use. */
function processCount(processes: Processes): number {
  return processes === 'auto' ? availableParallelism() : processes;
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) throw new InvalidArgumentError(`must be an integer from 0 to 65535, got '${value}'`);
  return port;
}
