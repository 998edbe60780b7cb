/**
 * SIGTERM to the real `longshore serve` (a child process) under load from keep-alive clients (issue 16, "Graceful
 * shutdown, complete"): no request is lost or reset, readiness answers 503 at once, idle and half-sent connections
 * and a model call with no deadline do not hold the process past server.shutdown_timeout_ms, the prediction log
 * (file) holds every answered call after exit, and a second SIGTERM exits at once. Counts, not timings, decide; the
 * only timing asserted is an upper bound on the exit. docs/deployment.md#draining-timing-on-shutdown.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServe, type ServeProcess } from '../helpers/cli.ts';
import { configYaml, fixture, REPO_ROOT, tempDir, writeConfig } from '../helpers/service.ts';

const DRAIN_DELAY_MS = 1500;
const SHUTDOWN_TIMEOUT_MS = 1500;
/** Requests one load client sends at most: the load stops by itself even if no answer ever says Connection: close. */
const MAX_PER_CLIENT = 2000;

const IRIS_BODY = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

interface Answer {
  status: number;
  connection: string | undefined;
  requestId: string | undefined;
}

/** One request on `agent`; rejects with the socket error (ECONNRESET, socket hang up...). */
function send(url: string, path: string, body: unknown, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, requestId: res.headers['x-request-id'] as string }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

interface Tally {
  sent: number;
  ok: number;
  /** Clients that stopped because an answer said Connection: close. */
  toldToClose: number;
  /** Requests started before the signal and answered after it. */
  inFlightAtSignal: number;
  failures: string[];
  /** request ids of 2xx answers, for the prediction log check. */
  okIds: Set<string>;
}

const newTally = (): Tally => ({ sent: 0, ok: 0, toldToClose: 0, inFlightAtSignal: 0, failures: [], okIds: new Set() });

/**
 * A keep-alive client: requests back to back on one connection until an answer says `Connection: close` (then it
 * sends nothing more: a real client would open a connection to another replica) or MAX_PER_CLIENT.
 */
async function keepAliveClient(url: string, path: string, body: unknown, tally: Tally, signalled: () => boolean): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < MAX_PER_CLIENT; i++) {
      const before = signalled();
      tally.sent++;
      let answer: Answer;
      try {
        answer = await send(url, path, body, agent);
      } catch (error) {
        tally.failures.push(`${path}: ${(error as NodeJS.ErrnoException).code ?? ''} ${(error as Error).message}`);
        return;
      }
      if (!before && signalled()) tally.inFlightAtSignal++;
      if (answer.status >= 200 && answer.status < 300) {
        tally.ok++;
        if (answer.requestId) tally.okIds.add(answer.requestId);
      } else tally.failures.push(`${path}: status ${answer.status}`);
      if (answer.connection === 'close') {
        tally.toldToClose++;
        return;
      }
    }
  } finally {
    agent.destroy();
  }
}

/** A raw connection that sends `text` (part of a request) and then nothing; resolves once connected. */
function rawConnection(url: string, text: string): Promise<Socket & { closedAt: Promise<number> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(text);
      resolve(Object.assign(socket, { closedAt: new Promise<number>((done) => socket.once('close', () => done(performance.now()))) }));
    });
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

/** Resolves with the number of the line `msg` first appears at in the server's log (past or future). */
const logIndex = async (server: ServeProcess, msg: string) => {
  await server.waitForLog(msg, 10_000);
  return server.lines.findIndex((line) => line.msg === msg);
};

function serveConfig(drainDelayMs: number, shutdownTimeoutMs: number, predictionLog: string): string {
  const models = [
    { model_path: join(REPO_ROOT, 'examples/onnx/iris_logreg.onnx'), qualified_name: 'iris' },
    { class_path: fixture('delayed-predict.ts', 'DelayedPredictModel'), configuration: { delay_ms: 150 } },
    { class_path: fixture('hang.ts', 'HangModel'), timeout_ms: 0, monitoring: { enabled: false } },
  ];
  return writeConfig(
    configYaml(models, {
      server: { drain_delay_ms: drainDelayMs, shutdown_timeout_ms: shutdownTimeoutMs },
      // Nothing is written before shutdown unless the batch fills: the file's content after exit is the final flush's.
      monitoring: { enabled: true, sample_every: 1, batch_size: 100_000, flush_interval_ms: 600_000, destination: { type: 'file', path: predictionLog } },
    }),
  );
}

async function startLoadedServer(drainDelayMs: number, shutdownTimeoutMs = SHUTDOWN_TIMEOUT_MS): Promise<{ server: ServeProcess; predictionLog: string }> {
  const predictionLog = join(tempDir(), 'predictions.jsonl');
  const server = await startServe(['--config', serveConfig(drainDelayMs, shutdownTimeoutMs, predictionLog), '--port', '0', '--host', '127.0.0.1']);
  await server.waitForLog('model loading finished');
  return { server, predictionLog };
}

for (const drainDelayMs of [DRAIN_DELAY_MS, 0]) {
  describe(`longshore serve: SIGTERM under keep-alive load (drain_delay_ms: ${drainDelayMs})`, () => {
    it('loses and resets no request, closes idle and half-sent connections, cuts a call with no deadline, flushes the prediction log, exits 0', async (t) => {
      const { server, predictionLog } = await startLoadedServer(drainDelayMs);
      t.after(() => server.kill());
      const { url } = server;

      // An idle keep-alive connection: one answered request, then silence.
      const idle = await rawConnection(url, 'GET /api/health HTTP/1.1\r\nhost: x\r\n\r\n');
      await new Promise((resolve) => idle.once('data', resolve));
      // A model call with no deadline that never returns.
      const hung = send(url, '/api/models/hang/prediction', { mode: 'hang' }, new Agent({ keepAlive: true })).then(
        () => ({ outcome: 'answered', at: performance.now() }),
        (error: NodeJS.ErrnoException) => ({ outcome: error.code ?? error.message, at: performance.now() }),
      );

      const signal = { at: Number.NaN };
      const signalled = () => !Number.isNaN(signal.at);
      const tally = newTally();
      const clients = [
        ...Array.from({ length: 3 }, () => keepAliveClient(url, '/v2/models/iris/infer', IRIS_BODY, tally, signalled)),
        ...Array.from({ length: 3 }, (_, i) => keepAliveClient(url, '/api/models/delayed/prediction', { value: i }, tally, signalled)),
      ];
      while (tally.ok < 60 && tally.failures.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

      // Half-sent requests, opened just before the signal: headers not finished, and a body short of its length.
      const halfHeaders = await rawConnection(url, 'POST /api/models/delayed/prediction HTTP/1.1\r\nhost: x\r\ncontent-type: appli');
      const halfBody = await rawConnection(
        url,
        'POST /api/models/delayed/prediction HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"va',
      );

      signal.at = performance.now();
      const exit = server.stop('SIGTERM', 15_000);
      if (drainDelayMs > 0) {
        // Readiness 503 at once: the first readiness probe after the signal was logged, on a new connection.
        await server.waitForLog('shutting down: readiness off, draining in-flight requests', 5000);
        const ready = await fetch(`${url}/api/health/ready`);
        assert.equal(ready.status, 503, 'readiness answers 503 during the drain delay');
        assert.equal(ready.headers.get('connection'), 'close');
      }
      await Promise.all(clients);
      const exited = await exit;
      const tookMs = performance.now() - signal.at;
      const [idleClosedAt, halfHeadersClosedAt, halfBodyClosedAt] = await Promise.all([idle.closedAt, halfHeaders.closedAt, halfBody.closedAt]);

      // 1. Under load: nothing lost or reset; every client stopped because it was told to; calls in flight answered.
      assert.deepEqual(tally.failures, [], 'no request failed, was reset or lost');
      assert.equal(tally.ok, tally.sent, 'every request sent got a 2xx answer');
      assert.equal(tally.toldToClose, clients.length, 'every keep-alive client saw Connection: close and stopped');
      assert.ok(tally.inFlightAtSignal >= 1, 'some requests were in flight at the signal');
      // 3 and 4. Exit 0, bounded by shutdown_timeout_ms although half-sent requests and a never-ending call were open.
      assert.deepEqual(exited, { code: 0, signal: null }, `exit code 0; stderr: ${server.stderr()}`);
      assert.ok(tookMs < drainDelayMs + SHUTDOWN_TIMEOUT_MS + 6000, `exited ${Math.round(tookMs)} ms after SIGTERM`);
      const cut = await hung;
      assert.notEqual(cut.outcome, 'answered', 'the call that never returns was cut, not answered');
      const cutAt = await logIndex(server, 'requests still open past server.shutdown_timeout_ms: closing their connections');
      const stoppedAt = await logIndex(server, 'longshore stopped');
      assert.ok(cutAt < stoppedAt);
      // The idle connection was closed when the listener closed, not left open until the exit (the hung call held the
      // process until shutdown_timeout_ms).
      assert.ok(idleClosedAt < cut.at, 'the idle keep-alive connection was closed before the call with no deadline was cut');
      for (const at of [idleClosedAt, halfHeadersClosedAt, halfBodyClosedAt]) assert.ok(at > signal.at, 'closed by the shutdown');
      // 5. The prediction log (file) was flushed at exit: one record per answered call, the last one included.
      const records = readFileSync(predictionLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { request_id: string });
      assert.deepEqual(new Set(records.map((record) => record.request_id)), tally.okIds);
    });
  });
}

describe('longshore serve: a second SIGTERM during the drain', () => {
  it('exits at once with 143 while a call with no deadline holds the drain', async (t) => {
    // A shutdown timeout far beyond the test: only the second signal can end the process soon.
    const { server } = await startLoadedServer(0, 60_000);
    t.after(() => server.kill());
    const hung = send(server.url, '/api/models/hang/prediction', { mode: 'hang' }, false).catch(() => 'cut');
    // One answer on another connection: the server is serving, and the hung call (sent first) is under way.
    await send(server.url, '/v2/models/iris/infer', IRIS_BODY, false);
    const first = server.stop('SIGTERM', 15_000);
    await server.waitForLog('shutting down: readiness off, draining in-flight requests', 5000);
    // 143, not 0: the process ended on the second signal, before the drain (held by the hung call) could finish.
    const exit = await server.stop('SIGTERM', 10_000);
    await server.waitForLog('second signal: exiting at once, without waiting for the drain or for models to finish loading', 5000);
    assert.deepEqual(exit, { code: 143, signal: null });
    assert.deepEqual(await first, exit);
    assert.ok(server.lines.every((line) => line.msg !== 'requests still open past server.shutdown_timeout_ms: closing their connections'));
    assert.equal(await hung, 'cut');
  });
});
