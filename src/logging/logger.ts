/**
 * The server's logger, built from `logging:` in the config: level, `service` on every line, redaction (authorization
 * and cookie headers always), JSON or pretty lines, and the destination (stdout, stderr or an appended file).
 *
 * Lines are written asynchronously (sonic-boom, `sync: false`): a log line never blocks the event loop on a write
 * syscall, and lines logged while a write is in flight go out together in the next one. `flushLogger()` waits for
 * what is still buffered (the server calls it at close); on `process.exit()` pino writes what is left synchronously.
 */
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import type { LongshoreConfig } from '../config/schema.js';

export type LoggingSettings = LongshoreConfig['logging'];
export type LogFormat = LoggingSettings['format'];
export const LOG_FORMATS = ['json', 'pretty'] as const satisfies readonly LogFormat[];

/** What createLogger reads: `logging:` of the config (any extra keys, such as access_log, are ignored). */
export interface LoggerSettings {
  readonly level: LoggingSettings['level'];
  /** Default json. */
  readonly format?: LogFormat;
  /** `stdout` (default), `stderr`, or a file path, relative to `configDir`. */
  readonly destination?: string;
  /** Extra pino redact paths, on top of ALWAYS_REDACTED. */
  readonly redact?: readonly string[];
}

/**
 * Always redacted, whatever `logging.redact` says: credentials in request and response headers, under the keys
 * longshore's own lines and fastify's serializers use (`req`, `request`, `res`, `reply`, or bare `headers`). Only
 * top-level keys are named (no leading wildcard), so a line without these keys pays nothing for redaction.
 */
export const ALWAYS_REDACTED: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'request.headers.authorization',
  'request.headers.cookie',
  'request.headers["proxy-authorization"]',
  'request.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'headers["x-api-key"]',
  'headers["set-cookie"]',
  'res.headers["set-cookie"]',
  'reply.headers["set-cookie"]',
];

/** What replaces a redacted value. */
export const REDACTED = '[Redacted]';

/** A `logging.*` setting the logger cannot be built with; the caller turns it into a config problem at that key. */
export class LoggingSetupError extends Error {
  constructor(
    readonly key: 'destination' | 'redact' | 'format',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LoggingSetupError';
  }
}

/** The asynchronous writer under each logger this module built, for flushing. */
interface Writer {
  readonly fd: number;
  readonly minLength: number;
  write(data: string): boolean;
  flushSync(): void;
  once(event: 'drain' | 'error' | 'close', listener: (error?: Error) => void): unknown;
  off(event: 'drain' | 'error' | 'close', listener: (error?: Error) => void): unknown;
  end(): void;
  readonly destroyed: boolean;
  /** sonic-boom internals: a write is in flight. */
  readonly _writing: boolean;
}

const writers = new WeakMap<Logger, Writer>();

/**
 * Builds the server's logger from `logging:`. `configDir` is the config file's directory: a relative file destination
 * resolves against it. The file and its directory are created (append mode) before anything is logged, so a
 * destination that cannot be opened fails here, as a LoggingSetupError, not later as an unhandled stream error.
 */
export function createLogger(settings: LoggerSettings, configDir: string = process.cwd()): Logger {
  const format = settings.format ?? 'json';
  const target = settings.destination ?? 'stdout';
  const pretty = format === 'pretty' ? loadPrettyFactory() : undefined;
  const writer = openWriter(target, configDir);
  const stream: DestinationStream = pretty ? prettyStream(pretty, writer, target) : writer;
  let logger: Logger;
  try {
    logger = pino(
      {
        level: settings.level,
        base: { service: 'longshore' },
        redact: { paths: [...new Set([...ALWAYS_REDACTED, ...(settings.redact ?? [])])], censor: REDACTED },
      },
      stream,
    );
  } catch (error) {
    writer.end();
    // pino rejects a path it cannot compile: "pino – redact paths array contains an invalid path (a..b)".
    throw new LoggingSetupError('redact', `not a valid redact path: ${(error as Error).message.replace(/^pino\s*[–-]\s*/, '')}`, { cause: error });
  }
  writers.set(logger, writer);
  return logger;
}

/** The absolute file a `logging.destination` names, or undefined for stdout / stderr. */
export function destinationFile(destination: string, configDir: string): string | undefined {
  return destination === 'stdout' || destination === 'stderr' ? undefined : resolve(configDir, destination);
}

function openWriter(target: string, configDir: string): Writer {
  const file = destinationFile(target, configDir);
  let fd: number;
  if (file === undefined) {
    fd = target === 'stderr' ? 2 : 1;
  } else {
    try {
      mkdirSync(dirname(file), { recursive: true });
      fd = openSync(file, 'a');
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      // mkdir over a file says EEXIST, open under a file ENOTDIR: say which part of the path is in the way.
      const reason = code === 'EEXIST' || code === 'ENOTDIR' ? `${code}: a part of ${dirname(file)} is a file, not a directory` : message;
      throw new LoggingSetupError('destination', `cannot open the log file ${file}: ${reason}`, { cause: error });
    }
  }
  try {
    // minLength 0: a line is handed to the OS as soon as no write is in flight; under load the lines logged meanwhile
    // go out in one write. (Buffering to 4 KiB measured no better on a file and would hold quiet-time lines back.)
    return pino.destination({ dest: fd, sync: false, minLength: 0 }) as unknown as Writer;
  } catch (error) {
    if (file !== undefined) closeSync(fd);
    throw new LoggingSetupError('destination', `cannot write the log to ${target}: ${(error as Error).message}`, { cause: error });
  }
}

type PrettyFactory = (options: PrettyOptions) => (line: string) => string;

/**
 * pino-pretty's formatter factory. pino-pretty is an optional peer dependency, needed only for pretty lines, so it is
 * loaded (synchronously: it is CommonJS) only when they are asked for, and its absence is a setup error naming it.
 */
function loadPrettyFactory(): PrettyFactory {
  try {
    return (createRequire(import.meta.url)('pino-pretty') as { prettyFactory: PrettyFactory }).prettyFactory;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== 'MODULE_NOT_FOUND' || !message.includes("'pino-pretty'")) throw error;
    throw new LoggingSetupError(
      'format',
      "pretty logs need the package 'pino-pretty', which is not installed: run `npm install pino-pretty` in your project, or log json lines (logging.format: json)",
      { cause: error },
    );
  }
}

/** Pretty lines through pino-pretty's formatter, in-process and synchronous, into the same asynchronous writer. */
function prettyStream(prettyFactory: PrettyFactory, writer: Writer, target: string): DestinationStream {
  const fd = target === 'stdout' ? 1 : target === 'stderr' ? 2 : -1;
  const pretty = prettyFactory({ colorize: fd > 0 && isatty(fd), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' });
  return {
    write: (line: string) => {
      writer.write(pretty(line));
    },
  };
}

/**
 * Resolves when every line logged so far has been handed to the OS. For a logger this module did not build (an
 * embedder's or a test's), falls back to pino's own `logger.flush()`. Never rejects: a broken destination at shutdown
 * must not turn a clean stop into a failure.
 */
export function flushLogger(logger: Logger): Promise<void> {
  const writer = writers.get(logger);
  if (!writer) return new Promise((done) => logger.flush(() => done()));
  if (writer.destroyed) return Promise.resolve();
  if (!writer._writing) {
    // Not writing with minLength 0 means nothing is buffered; flushSync covers a writer built with minLength > 0.
    try {
      writer.flushSync();
    } catch {
      // fd not ready or closed: nothing more can be written.
    }
    return Promise.resolve();
  }
  return new Promise((done) => {
    const finish = () => {
      writer.off('drain', finish);
      writer.off('error', finish);
      writer.off('close', finish);
      done();
    };
    writer.once('drain', finish);
    writer.once('error', finish);
    writer.once('close', finish);
  });
}

/** Flushes what is left synchronously (for exit paths with no event loop left). */
export function flushLoggerSync(logger: Logger): void {
  const writer = writers.get(logger);
  try {
    if (writer) {
      if (!writer.destroyed) writer.flushSync();
    } else {
      logger.flush();
    }
  } catch {
    // Nothing more can be done on the way out.
  }
}
