/**
 * `longshore serve --processes N`, through the real command: workers share one port and each serves, /metrics sums
 * every worker, readiness waits for every worker, a killed worker is restarted, SIGTERM drains them all; the default
 * runs one process with no fork; a bad config fails before forking.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startServe, type ServeProcess } from '../helpers/cli.ts';
import { fixture, tempDir, writeConfig } from '../helpers/service.ts';

const WAIT_MS = 20_000;

/** Polls `check` until it returns a value other than undefined; fails after `ms`. */
async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function pidConfig(gateDir?: string): string {
  const lines = ['server:', '  host: 127.0.0.1', '  port: 0', 'models:', `  - class_path: ${fixture('pid-gate.ts', 'PidGateModel')}`];
  if (gateDir) lines.push('    configuration:', `      gate_dir: ${gateDir}`);
  return writeConfig(`${lines.join('\n')}\n`);
}

/**
 * One request on a connection of its own: the primary hands out connections (not requests) to the workers in turn, and
 * fetch would keep reusing one connection, so one worker.
 */
function request(url: string, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const call = httpRequest(url, { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    call.on('error', reject);
    call.end(body);
  });
}

async function predict(url: string): Promise<{ pid: number; ppid: number }> {
  const response = await request(`${url}/api/models/pid/prediction`, 'POST', '{"x":1}');
  assert.equal(response.status, 200, response.text);
  return JSON.parse(response.text) as { pid: number; ppid: number };
}

/** Readiness from `probes` fresh connections, alternating the REST and the V2 probe (both must see the cluster). */
async function readyStatuses(url: string, probes = 4): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < probes; i++) statuses.push((await request(`${url}${i % 2 === 0 ? '/api/health/ready' : '/v2/health/ready'}`)).status);
  return statuses;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

describe('longshore serve --processes 2', () => {
  const gate = tempDir();
  let server: ServeProcess | undefined;
  let url = '';
  let primaryPid = 0;
  const seenWorkers = new Set<number>();
  let predictions = 0;

  const lines = (msg: string) => (server?.lines ?? []).filter((line) => line.msg === msg);
  const workerPids = () => lines('worker started').map((line) => line.worker_pid as number);
  const counted = async () => {
    const answer = await predict(url);
    predictions++;
    return answer;
  };

  before(async () => {
    server = await startServe(['--config', pidConfig(gate), '--processes', '2'], { timeoutMs: WAIT_MS });
    url = server.url;
    primaryPid = (await server.waitForLog('cluster starting')).pid as number;
  });

  after(() => {
    server?.kill();
    for (const pid of workerPids()) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  });

  it('forks two workers on one port, and is ready only once both are', async () => {
    const listening = await until('both workers listening', () => (lines('longshore listening').length >= 2 ? lines('longshore listening') : undefined));
    const [first, second] = workerPids();
    assert.ok(first && second && first !== second && first !== primaryPid && second !== primaryPid, JSON.stringify(workerPids()));
    assert.deepEqual(new Set(listening.map((line) => line.pid)), new Set([first, second]), 'each worker listens');
    assert.deepEqual(new Set(listening.map((line) => line.url)), new Set([url]), 'on the same port');
    assert.equal(lines('cluster listening')[0]?.url, url);
    for (const pid of [first, second]) seenWorkers.add(pid);

    await until('both models loading', () => (existsSync(join(gate, `loading-${first}`)) && existsSync(join(gate, `loading-${second}`)) ? true : undefined));
    assert.deepEqual(await readyStatuses(url), [503, 503, 503, 503]);

    writeFileSync(join(gate, `release-${first}`), '');
    await until('the first worker ready', () => lines('worker readiness changed').find((line) => line.worker_pid === first && line.ready === true));
    assert.deepEqual(await readyStatuses(url), [503, 503, 503, 503], 'one worker ready is not enough');
    const deep = await request(`${url}/api/health/ready?deep=true`);
    assert.equal(deep.status, 503);
    const { problems } = JSON.parse(deep.text) as { problems: string[] };
    assert.ok(problems.some((problem) => problem === `worker process ${second} is not ready` || problem === "model 'pid' is loading"), problems.join('; '));

    writeFileSync(join(gate, `release-${second}`), '');
    // Each worker flips when the primary's broadcast reaches it: all of them within a moment of each other.
    await until('every worker answering ready', async () => ((await readyStatuses(url)).every((status) => status === 200) ? true : undefined));
    // From here on every (re)started worker loads at once.
    writeFileSync(join(gate, 'release-all'), '');
  });

  it('serves from both workers, children of the primary', async () => {
    const answered = new Set<number>();
    for (let i = 0; i < 50 && answered.size < 2; i++) {
      const { pid, ppid } = await counted();
      answered.add(pid);
      assert.equal(ppid, primaryPid);
    }
    assert.deepEqual(answered, seenWorkers);
  });

  it('answers /metrics with the sum of every worker, exactly', async () => {
    const answered = new Set<number>();
    for (let i = 0; i < 20; i++) answered.add((await counted()).pid);
    assert.equal(answered.size, 2, 'both workers served some of the requests');
    // Twice, so that (with round robin) both workers answer a scrape.
    for (let i = 0; i < 2; i++) {
      const { status, text } = await request(`${url}/metrics`);
      assert.equal(status, 200);
      assert.equal(sample(text, 'longshore_requests_total{model="pid",version="1",operation="predict"}'), predictions);
      assert.equal(sample(text, 'http_requests_total{method="POST",status="2xx",handler="/api/models/{name}/prediction"}'), predictions);
      assert.equal(sample(text, 'http_request_duration_seconds_count{method="POST",handler="/api/models/{name}/prediction"}'), predictions);
      assert.equal(sample(text, 'longshore_model_ready{model="pid",version="1"}'), 2, 'one per ready worker');
    }
  });

  it('restarts a worker killed with SIGKILL, and logs it', async () => {
    const [victim] = workerPids();
    process.kill(victim!, 'SIGKILL');
    const exited = await until('the exit logged', () => lines('worker exited unexpectedly; restarting it').find((line) => line.worker_pid === victim));
    assert.equal(exited.signal, 'SIGKILL');
    assert.equal(typeof exited.restart_in_ms, 'number');
    const replacement = await until('a new worker', () => workerPids().find((pid) => !seenWorkers.has(pid)));
    await until('the new worker serving', async () => {
      const response = await request(`${url}/api/models/pid/prediction`, 'POST', '{"x":1}');
      return response.status === 200 && (JSON.parse(response.text) as { pid: number }).pid === replacement ? true : undefined;
    });
    await until('the cluster ready again', async () => ((await request(`${url}/api/health/ready`)).status === 200 ? true : undefined));
  });

  it('drains every worker on SIGTERM and exits 0', async () => {
    const running = workerPids().filter(isRunning);
    assert.equal(running.length, 2, JSON.stringify(running));
    const exit = await server!.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(lines('longshore stopped').filter((line) => running.includes(line.pid as number)).length, 2, 'each worker drained');
    assert.equal(lines('cluster stopped').length, 1);
    await until('the workers gone', () => (running.some(isRunning) ? undefined : true), 5000);
  });
});

describe('longshore serve without --processes', () => {
  it('serves from the one process it started, without forking', async () => {
    const server = await startServe(['--config', pidConfig()], { timeoutMs: WAIT_MS });
    try {
      const { ppid } = await until('the model ready', async () => {
        const response = await request(`${server.url}/api/models/pid/prediction`, 'POST', '{"x":1}');
        return response.status === 200 ? (JSON.parse(response.text) as { ppid: number }) : undefined;
      });
      assert.equal(ppid, process.pid, 'the model runs in the process this test spawned');
      assert.equal(server.lines.filter((line) => line.msg === 'cluster starting' || line.msg === 'worker started').length, 0);
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    } finally {
      server.kill();
    }
  });
});

describe('longshore serve --processes: failures', { concurrency: true }, () => {
  it('exits 2 before forking when the config is invalid', async () => {
    const file = writeConfig('server:\n  processes: 2\n  port: high\n');
    const result = await runCli(['serve', '--config', file]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /server\.port/);
    assert.doesNotMatch(result.stdout, /worker started/);
  });

  it('exits 2 for a bad process count, from the flag or the file', async () => {
    const flag = await runCli(['serve', '--config', pidConfig(), '--processes', '0']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--processes.*at least 1, or auto/);
    const env = await runCli(['serve', '--config', pidConfig()], { env: { LONGSHORE_PROCESSES: 'many' } });
    assert.equal(env.code, 2);
    const file = await runCli(['serve', '--config', writeConfig('server:\n  processes: 0\n')]);
    assert.equal(file.code, 2);
    assert.match(file.stderr, /server\.processes/);
  });

  it('stops the cluster with the exit code of a worker that cannot start', async () => {
    const file = writeConfig(`server:\n  port: 0\nmodels:\n  - class_path: ${fixture('nowhere.ts', 'Model')}\n`);
    const result = await runCli(['serve', '--config', file, '--processes', '2'], { timeoutMs: WAIT_MS });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /worker failed to start; stopping the cluster/);
    assert.match(result.stdout, /cluster stopped/);
  });
});
