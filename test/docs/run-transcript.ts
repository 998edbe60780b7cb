/**
 * Runs a doc transcript step by step, the way a reader would type it from the repository's root, and reports where the
 * output differs from the doc: `curl` against the test server (through fetch, test/docs/curl-command.ts), `longshore`
 * (also `npx longshore`, `node bin/longshore.js`) through bin/longshore.js in a child process (stdout, then stderr),
 * `echo $?` for the exit code of the command before, and `cd DIR &&` in front of any of them.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { REPO_ROOT } from '../helpers/service.ts';
import { parseCurl, runCurl } from './curl-command.ts';
import type { Transcript, TranscriptStep } from './markdown-blocks.ts';
import { compareOutput } from './output-match.ts';
import { parseCommand, type SimpleCommand } from './shell-words.ts';

/** A command the checker refuses to run, with why (reported as the step's failure). */
class NotRunnable extends Error {}

interface Session {
  baseUrl: string;
  cwd: string;
  lastExitCode: number;
}

/** `longshore`, `npx longshore` or `node bin/longshore.js` → the arguments after it; undefined for another command. */
function longshoreArgs(argv: string[]): string[] | undefined {
  if (argv[0] === 'longshore') return argv.slice(1);
  if (argv[0] === 'npx' && argv[1] === 'longshore') return argv.slice(2);
  if (argv[0] === 'node' && argv[1] === 'bin/longshore.js') return argv.slice(2);
  return undefined;
}

/**
 * Runs `longshore ...args`. Commands that would write into the repository or the reader's files are kept out of them:
 * `openapi`'s output goes to a temp dir (its path shown as the doc's); `init` and `dockerfile --write` are refused.
 */
async function runLongshore(args: string[], command: SimpleCommand, session: Session): Promise<string> {
  if (args[0] === 'init' || (args[0] === 'dockerfile' && args.includes('--write'))) {
    throw new NotRunnable(`'longshore ${args[0]}' writes files; mark the block <!-- not-checked: reason -->`);
  }
  let scratch: string | undefined;
  let docPath: string | undefined;
  if (args[0] === 'openapi') {
    const at = args.findIndex((arg) => arg === '-o' || arg === '--output');
    docPath = at === -1 ? 'openapi.yaml' : args[at + 1];
    if (docPath !== '-' && docPath !== undefined) {
      scratch = mkdtempSync(join(tmpdir(), 'longshore-docs-'));
      const target = join(scratch, basename(docPath));
      args = at === -1 ? [...args, '--output', target] : args.map((arg, index) => (index === at + 1 ? target : arg));
    }
  }
  try {
    const result = await runCli(args, { cwd: session.cwd, env: command.env, timeoutMs: 15000 }).catch((error: unknown) => {
      throw new NotRunnable(`${(error as Error).message.split('\n')[0]} (a command that keeps running, such as serve, cannot be checked: mark the block)`);
    });
    session.lastExitCode = result.code ?? 128;
    const output = `${result.stdout}${result.stderr}`;
    return scratch && docPath ? output.replaceAll(join(scratch, basename(docPath)), docPath) : output;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

async function runStep(step: TranscriptStep, session: Session): Promise<string> {
  let command: SimpleCommand;
  try {
    command = parseCommand(step.command);
  } catch (error) {
    throw new NotRunnable((error as Error).message);
  }
  if (command.cd !== undefined) {
    const dir = resolve(session.cwd, command.cd);
    if (!existsSync(dir)) throw new NotRunnable(`cd ${command.cd}: no such directory here (the example needs files that are not in the repository: mark the block)`);
    session.cwd = dir;
  }
  const { argv } = command;
  if (argv.length === 0) return '';
  if (argv[0] === 'echo' && argv.length === 2 && argv[1] === '$?') return `${session.lastExitCode}\n`;
  if (argv[0] === 'curl') {
    let request;
    try {
      request = parseCurl(argv, session.cwd);
    } catch (error) {
      throw new NotRunnable((error as Error).message);
    }
    const output = await runCurl(request, session.baseUrl);
    session.lastExitCode = 0;
    return output;
  }
  const args = longshoreArgs(argv);
  if (args) return runLongshore(args, command, session);
  throw new NotRunnable(`'${argv[0]}' is not a command the doc checker runs (curl, longshore, echo $?)`);
}

function indent(text: string, limit = 40): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const shown = lines.slice(0, limit).map((line) => `    ${line}`);
  if (lines.length > limit) shown.push(`    ... (${lines.length - limit} more lines)`);
  return shown.join('\n');
}

/**
 * Runs every step of `transcript` against the server at `baseUrl`; returns one failure report per step that failed
 * (each names the file and line of its command), empty when the doc is right.
 */
export async function checkTranscript(transcript: Transcript, baseUrl: string): Promise<string[]> {
  const session: Session = { baseUrl, cwd: REPO_ROOT, lastExitCode: 0 };
  const failures: string[] = [];
  for (const step of transcript.steps) {
    const where = `${transcript.block.file}:${step.line}: $ ${step.command.split('\n')[0]}${step.command.includes('\n') ? ' ...' : ''}`;
    let output: string;
    try {
      output = await runStep(step, session);
    } catch (error) {
      if (!(error instanceof NotRunnable)) throw error;
      failures.push(`${where}\n  cannot be run: ${error.message}`);
      break;
    }
    const problems = compareOutput(step.expected.join('\n'), output);
    if (problems.length > 0) {
      failures.push(`${where}\n${problems.map((problem) => `  ${problem}`).join('\n')}\n  the command printed:\n${indent(output)}`);
    }
  }
  return failures;
}
