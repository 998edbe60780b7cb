/**
 * Logging settings through the real `longshore serve` (spawned): stdout or stderr, --log-format / LONGSHORE_LOG_FORMAT,
 * an unusable destination (exit 2 naming logging.destination), and the last lines of a file log after SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, runCli } from '../helpers/cli.ts';
import { REPO_ROOT, tempDir, writeConfig } from '../helpers/service.ts';

const BASE = 'server:\n  port: 0\nhealth:\n  ready_without_models: true\n';

interface Served {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `longshore serve`, waits until `listening(stdout, stderr)` says it listens, calls `during(url)` if given, sends
 * SIGTERM and resolves with everything it wrote.
 */
function serveUntilListening(
  args: string[],
  listening: (out: { stdout: string; stderr: string }) => string | undefined,
  options: { env?: Record<string, string>; during?: (url: string) => Promise<void> } = {},
): Promise<Served> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const name of ['LONGSHORE_CONFIG', 'LONGSHORE_LOG_LEVEL', 'LONGSHORE_PORT', 'LONGSHORE_HOST', 'NODE_TEST_CONTEXT']) delete env[name];
  if (!options.env?.LONGSHORE_LOG_FORMAT) delete env.LONGSHORE_LOG_FORMAT;
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  let signalled = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within 20 s\nstdout: ${out.stdout}\nstderr: ${out.stderr}`));
    }, 20000);
    const check = () => {
      const url = listening(out);
      if (url === undefined || signalled) return;
      signalled = true;
      void (options.during?.(url) ?? Promise.resolve()).then(
        () => child.kill('SIGTERM'),
        (error: unknown) => {
          child.kill('SIGKILL');
          reject(error as Error);
        },
      );
    };
    // A file destination writes nothing to the pipes: poll as well.
    const poll = setInterval(check, 50);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => ((out.stdout += chunk), check()));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => ((out.stderr += chunk), check()));
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code, ...out });
    });
  });
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function urlFromJson(text: string): string | undefined {
  const line = jsonLines(text).find((l) => l.msg === 'longshore listening');
  return typeof line?.url === 'string' ? line.url : undefined;
}

describe('longshore serve logging', { concurrency: true }, () => {
  it('writes JSON lines to stdout by default', async () => {
    const file = writeConfig(BASE);
    const result = await serveUntilListening(['--config', file], ({ stdout }) => urlFromJson(stdout));
    assert.equal(result.code, 0, result.stderr);
    const msgs = jsonLines(result.stdout).map((line) => line.msg);
    assert.ok(msgs.includes('longshore listening'));
    assert.equal(msgs.at(-1), 'longshore stopped');
    assert.equal(result.stderr, '');
  });

  it('writes to stderr with destination: stderr, leaving stdout empty', async () => {
    const file = writeConfig(`${BASE}logging:\n  destination: stderr\n`);
    const result = await serveUntilListening(['--config', file], ({ stderr }) => urlFromJson(stderr));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    const lines = jsonLines(result.stderr);
    assert.ok(lines.some((line) => line.msg === 'longshore listening' && line.service === 'longshore'));
    assert.equal(lines.at(-1)?.msg, 'longshore stopped');
  });

  it('--log-format pretty overrides logging.format: json with human-readable lines', async () => {
    const file = writeConfig(`${BASE}logging:\n  format: json\n`);
    const result = await serveUntilListening(['--config', file, '--log-format', 'pretty'], ({ stdout }) =>
      /INFO.*: longshore listening/.test(stdout) ? 'x' : undefined,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(jsonLines(result.stdout), []);
    assert.match(result.stdout, /INFO.*: longshore stopped/);
    assert.match(result.stdout, /url: "http:\/\/127\.0\.0\.1:\d+"/);
  });

  it('LONGSHORE_LOG_FORMAT=pretty works like --log-format', async () => {
    const file = writeConfig(BASE);
    const result = await serveUntilListening(['--config', file], ({ stdout }) => (/INFO.*: longshore listening/.test(stdout) ? 'x' : undefined), {
      env: { LONGSHORE_LOG_FORMAT: 'pretty' },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(jsonLines(result.stdout), []);
  });

  it('rejects an unknown --log-format with exit 2', async () => {
    const result = await runCli(['serve', '--config', writeConfig(BASE), '--log-format', 'xml']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--log-format.*xml.*json, pretty|Allowed choices are json, pretty/);
  });

  it('exits 2 naming logging.destination and the reason when the log file cannot be opened', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-dir'), '');
    const file = writeConfig(`${BASE}logging:\n  destination: not-a-dir/server.log\n`, { dir });
    const result = await runCli(['serve', '--config', file]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`^invalid configuration in ${file}:`));
    assert.match(result.stderr, new RegExp(`${file}:6 logging\\.destination: cannot open the log file ${join(dir, 'not-a-dir/server.log')}: (ENOTDIR|EEXIST): a part of .* is a file, not a directory`));
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('a file log has its last lines after SIGTERM, requests included', async () => {
    const dir = tempDir();
    const file = writeConfig(`${BASE}logging:\n  destination: logs/longshore.log\n  format: json\n`, { dir });
    const log = join(dir, 'logs/longshore.log');
    const result = await serveUntilListening(
      ['--config', file],
      () => {
        try {
          return urlFromJson(readFileSync(log, 'utf8'));
        } catch {
          return undefined;
        }
      },
      {
        during: async (url) => {
          for (let i = 0; i < 5; i++) assert.equal((await fetch(`${url}/api/health`)).status, 200);
          assert.equal((await fetch(`${url}/api/nowhere`)).status, 404);
        },
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    const msgs = jsonLines(readFileSync(log, 'utf8')).map((line) => line.msg);
    assert.deepEqual(msgs.slice(-2), ['shutting down: readiness off, draining in-flight requests', 'longshore stopped']);
  });
});
