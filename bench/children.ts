/**
 * Child processes of the benchmark (servers under test, the in-process session loop): start them, find the URL they
 * print, collect their output, and make sure none outlives the run — stop() at the end, SIGKILL on any exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** On exit (normal, error, watchdog) every child still running is killed; Ctrl-C and SIGTERM exit through it. */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping child processes\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** Environment for children: ours, minus anything that would make longshore read a config file. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('LONGSHORE_') || key === 'REST_CONFIG') delete env[key];
  return env;
}

const TAIL_CHARS = 4000;

export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  #stdoutTail = '';
  #stderrTail = '';
  #stdoutLines = 0;
  #accessLogLines = 0;
  #pending = '';
  readonly #exited: Promise<void>;
  #lineListener: ((line: string) => void) | undefined;

  /** `env`: variables added to the child's environment (after longshore's own were removed). */
  constructor(name: string, args: readonly string[], cwd: string, env: Readonly<Record<string, string>> = {}) {
    installHooks();
    this.name = name;
    this.process = spawn(process.execPath, [...args], { cwd, env: { ...childEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.process);
    this.#exited = new Promise((resolve) => {
      this.process.once('exit', () => {
        live.delete(this.process);
        resolve();
      });
    });
    this.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.#onStdout(chunk));
    this.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderrTail = (this.#stderrTail + chunk).slice(-TAIL_CHARS);
    });
  }

  /** Lines written to stdout so far, access-log lines apart (to check a server logs nothing unexpected per request). */
  get stdoutLines(): number {
    return this.#stdoutLines;
  }

  /** Access-log lines (`request completed`) written to stdout so far. */
  get accessLogLines(): number {
    return this.#accessLogLines;
  }

  get stdout(): string {
    return this.#stdoutTail;
  }

  get stderr(): string {
    return this.#stderrTail;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  #onStdout(chunk: string): void {
    this.#stdoutTail = (this.#stdoutTail + chunk).slice(-TAIL_CHARS);
    this.#pending += chunk;
    let newline = this.#pending.indexOf('\n');
    while (newline >= 0) {
      const line = this.#pending.slice(0, newline);
      this.#pending = this.#pending.slice(newline + 1);
      // Access-log lines are expected, one per request; any other line during a load is worth a look.
      if (line.includes('"msg":"request completed"')) this.#accessLogLines++;
      else this.#stdoutLines++;
      this.#lineListener?.(line);
      newline = this.#pending.indexOf('\n');
    }
    if (this.#pending.length > TAIL_CHARS) this.#pending = this.#pending.slice(-TAIL_CHARS);
  }

  /** Resolves with the `url` of the first JSON stdout line that has one; after that stdout is only drained. */
  waitForUrl(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = (error: Error | undefined, url?: string) => {
        clearTimeout(timer);
        this.#lineListener = undefined;
        this.process.off('exit', onExit);
        if (error) reject(error);
        else resolve(url as string);
      };
      const timer = setTimeout(() => done(this.#failure(`printed no URL within ${timeoutMs} ms`)), timeoutMs);
      const onExit = () => done(this.#failure('exited before printing its URL'));
      this.process.once('exit', onExit);
      this.#lineListener = (line) => {
        if (!line.includes('"url"')) return;
        try {
          const parsed = JSON.parse(line) as { url?: unknown };
          if (typeof parsed.url === 'string') done(undefined, parsed.url);
        } catch {
          // not JSON: keep reading
        }
      };
    });
  }

  /** Waits for the child to exit by itself; rejects if it fails or takes longer than timeoutMs. */
  async finished(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(this.#failure(`did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (this.process.exitCode !== 0) throw this.#failure(`exited with code ${this.process.exitCode} (signal ${this.process.signalCode})`);
  }

  /** SIGTERM, then SIGKILL if it has not exited after graceMs. Safe to call more than once. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.#exited, grace]);
    clearTimeout(timer);
    if (this.running) {
      this.process.kill('SIGKILL');
      await this.#exited;
    }
  }

  #failure(what: string): Error {
    const stderr = this.#stderrTail.trim();
    return new Error(`${this.name} ${what}${stderr ? `\n--- stderr (tail) ---\n${stderr}` : ''}`);
  }
}
