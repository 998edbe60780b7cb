/**
 * Runs the real `longshore` command (`node bin/longshore.js ...`) in a child process, with a clean environment and a
 * timeout, for exit-code and discovery tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './service.ts';

export const BIN = join(REPO_ROOT, 'bin/longshore.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Added to a copy of this process's environment from which longshore's own variables were removed. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

const LONGSHORE_VARIABLES = ['LONGSHORE_CONFIG', 'REST_CONFIG', 'LONGSHORE_HOST', 'LONGSHORE_PORT', 'LONGSHORE_LOG_LEVEL', 'LONGSHORE_LOG_FORMAT', 'NODE_TEST_CONTEXT'];

function cliEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of LONGSHORE_VARIABLES) delete env[name];
  return { ...env, ...extra };
}

function spawnCli(args: readonly string[], options: CliOptions): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cliEnvironment(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `longshore ...args` to completion; kills it (and fails) after `timeoutMs`. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`longshore ${args.join(' ')} did not exit within ${options.timeoutMs ?? 20000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface ServeProcess {
  /** The `url` of the "longshore listening" log line. */
  url: string;
  /** Every JSON log line written to stdout so far. */
  lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the first log line (past or future) whose `msg` is `msg`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends `signal` (e.g. SIGHUP) and returns at once. */
  signal(signal: NodeJS.Signals): void;
  /** Sends `signal` and resolves with how the process exited. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the process if it is still running (for cleanup). */
  kill(): void;
}

/** Starts `longshore serve ...args` and resolves once it logged the URL it listens on. */
export function startServe(args: readonly string[], options: CliOptions = {}): Promise<ServeProcess> {
  const child = spawnCli(['serve', ...args], options);
  const lines: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const timeoutMs = options.timeoutMs ?? 20000;

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`longshore serve did not log its url within ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`longshore serve exited (code ${code}, signal ${signal}) before listening\nstderr: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.msg === line.msg)) waiter.resolve(line);
      if (line.msg === 'longshore listening' && typeof line.url === 'string') {
        clearTimeout(timer);
        resolve({
          url: line.url,
          lines,
          stderr: () => stderr,
          waitForLog: (msg, ms = timeoutMs) => {
            const seen = lines.find((l) => l.msg === msg);
            if (seen) return Promise.resolve(seen);
            return new Promise((resolveLine, rejectLine) => {
              const t = setTimeout(() => rejectLine(new Error(`no "${msg}" log line within ${ms} ms`)), ms);
              waiters.push({ msg, resolve: (l) => (clearTimeout(t), resolveLine(l)) });
            });
          },
          signal: (signal) => void child.kill(signal),
          stop: (signal = 'SIGTERM', ms = timeoutMs) => {
            child.kill(signal);
            return Promise.race([
              exited,
              new Promise<never>((_, rejectStop) =>
                setTimeout(() => {
                  child.kill('SIGKILL');
                  rejectStop(new Error(`longshore serve did not exit within ${ms} ms of ${signal}`));
                }, ms).unref(),
              ),
            ]);
          },
          kill: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          },
        });
      }
    });
  });
}
