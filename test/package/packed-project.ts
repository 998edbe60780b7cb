/**
 * Helpers for the packaging test: pack this repository as npm would publish it, and work in fresh projects outside the
 * clone the way a user does (npm install, npx, plain node), with a clean environment: no npm_* variables of the
 * `npm run` that started the test, so nothing of this repository's own .npmrc leaks into the user's project.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const NPM_TIMEOUT_MS = 300_000;

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** This process's environment without what `npm run` adds and without longshore's own variables. */
export function userEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) || /^(LONGSHORE_|REST_CONFIG$|NODE_TEST_CONTEXT$|NODE_OPTIONS$|INIT_CWD$)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', ...extra };
}

/** Runs a command to completion (bounded by a timeout) and collects its output. */
export function run(command: string, args: readonly string[], cwd: string, extraEnv: Record<string, string> = {}, timeoutMs = NPM_TIMEOUT_MS): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    // Its own process group, so a timeout also ends what npx or npm started below it.
    const child = spawn(command, args, { cwd, env: userEnvironment(extraEnv), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed; fails with its output otherwise. */
export async function mustRun(command: string, args: readonly string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const result = await run(command, args, cwd, extraEnv);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return result;
}

/** Signals a detached child's whole process group; a group that is gone already is fine. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // the group has ended
  }
}

/** A temp folder, removed by `removeAll()`. */
export class TempDirs {
  readonly #dirs: string[] = [];

  make(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `longshore-${prefix}-`));
    this.#dirs.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

export interface PackedFile {
  readonly path: string;
  readonly size: number;
}

export interface Packed {
  readonly tarball: string;
  /** Compressed size in bytes. */
  readonly size: number;
  readonly files: readonly PackedFile[];
}

/** `npm pack` of the repository into `destination` (its prepack script builds dist/ first). */
export async function pack(destination: string): Promise<Packed> {
  const { stdout } = await mustRun('npm', ['pack', '--json', '--pack-destination', destination], REPO_ROOT);
  const [report] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; size: number; files: PackedFile[] }[];
  if (!report) throw new Error(`npm pack printed no report: ${stdout}`);
  return { tarball: join(destination, report.filename), size: report.size, files: report.files };
}

/**
 * The `.npmrc` the README tells users to put in their project (the first ```ini block of the README), so the test
 * installs exactly as documented.
 */
export function documentedNpmrc(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /```ini\n([\s\S]*?)```/.exec(readme);
  if (!block?.[1]) throw new Error('README.md has no ```ini block with the .npmrc to use');
  return block[1];
}

/** The version of a package installed in this repository (so the test project gets the one the suite runs with). */
export function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** A `longshore serve` started with `npx` in a project; its URL is read from the "longshore listening" log line. */
export class ServeProcess {
  readonly #child: ChildProcess;
  readonly url: Promise<string>;
  readonly exited: Promise<number | null>;
  #output = '';

  constructor(cwd: string, args: readonly string[], extraEnv: Record<string, string> = {}) {
    // Its own process group: npx runs the command in a child process and does not pass SIGTERM on, so stop() signals
    // the whole group.
    this.#child = spawn('npx', ['longshore', 'serve', ...args], { cwd, env: userEnvironment(extraEnv), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.#child.stderr?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    this.exited = new Promise((resolvePromise) => this.#child.on('close', (code) => resolvePromise(code)));
    this.url = new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "longshore listening" line within 30 s:\n${this.#output}`)), 30_000);
      createInterface({ input: this.#child.stdout! }).on('line', (line) => {
        this.#output += `${line}\n`;
        const url = /"msg":"longshore listening"/.test(line) ? (JSON.parse(line) as { url?: string }).url : undefined;
        if (url) {
          clearTimeout(timer);
          resolvePromise(url);
        }
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`longshore serve exited (${code}) before listening:\n${this.#output}`));
      });
    });
  }

  get output(): string {
    return this.#output;
  }

  /**
   * SIGTERM to npx and the server (a graceful drain), SIGKILL to the group if it has not stopped after 15 s. The group
   * is signalled even when npx has exited, in case the server it started has not.
   */
  async stop(): Promise<void> {
    signalGroup(this.#child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.#child, 'SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
