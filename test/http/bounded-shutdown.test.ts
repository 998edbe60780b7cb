/**
 * Shutdown is bounded and tells keep-alive clients to move on: requests that arrive once the drain began are answered
 * with `Connection: close`; past `server.shutdown_timeout_ms`, a connection still sending its request, or waiting on a
 * model call with no deadline, is closed, so close() finishes and the models unload (docs/architecture.md#shutdown).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import type { HangModel } from '../fixtures/code-models/hang.ts';
import { configYaml, fixture, silentLogger, writeConfig } from '../helpers/service.ts';

async function serve(server: Record<string, unknown>): Promise<RunningServer> {
  const models = [{ class_path: fixture('hang.ts', 'HangModel'), timeout_ms: 0 }];
  const loaded = loadConfigFile(writeConfig(configYaml(models, { server })));
  const running = await startServer({ loaded, host: '127.0.0.1', port: 0, logger: silentLogger() });
  await running.modelsLoaded;
  return running;
}

/** POSTs `body` on a keep-alive connection and resolves with the status and the Connection header of the answer. */
function post(url: string, path: string, body: unknown): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'keep-alive' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** A connection that sends `start` (part of a request) and then nothing. */
function partialRequest(url: string, start: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(start);
      resolve(socket);
    });
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

/** A connection that sends half a request (its headers, part of its body) and then nothing. */
const halfSentRequest = (url: string) =>
  partialRequest(url, 'POST /api/models/hang/prediction HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"mo');

/** A connection that sends the start of a request's headers and then nothing. */
const unfinishedHeaders = (url: string) => partialRequest(url, 'POST /api/models/hang/prediction HTTP/1.1\r\nhost: x\r\ncontent-ty');

describe('shutdown', () => {
  it('closes at once a connection with no request under way (unfinished headers, or nothing sent), long before shutdown_timeout_ms', async () => {
    const server = await serve({ shutdown_timeout_ms: 60_000 });
    const unfinished = await unfinishedHeaders(server.url);
    const silent = await new Promise<Socket>((resolve) => {
      const { hostname, port } = new URL(server.url);
      const socket = connect(Number(port), hostname, () => resolve(socket));
      socket.on('error', () => {});
    });
    const closedAt = (socket: Socket) => new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
    const closes = Promise.all([closedAt(unfinished), closedAt(silent)]);
    const started = performance.now();
    await server.close();
    const times = await closes;
    for (const at of times) assert.ok(at - started < 5000, `closed ${Math.round(at - started)} ms after close began, not at the 60 s timeout`);
  });


  it('answers with Connection: close from the drain on, and keep-alive before it', async () => {
    const server = await serve({ drain_delay_ms: 300 });
    const before = await post(server.url, '/api/models/hang/prediction', { mode: 'ok', value: 1 });
    assert.equal(before.status, 200);
    assert.equal(before.connection, 'keep-alive');
    const closing = server.close();
    try {
      const during = await post(server.url, '/api/models/hang/prediction', { mode: 'ok', value: 2 });
      assert.equal(during.status, 200, 'still served during the drain');
      assert.equal(during.connection, 'close');
    } finally {
      await closing;
    }
  });

  it('closes a half-sent request and a call waiting on a model with no deadline after shutdown_timeout_ms', async () => {
    const server = await serve({ shutdown_timeout_ms: 300 });
    const model = server.registry.require('hang').model as unknown as HangModel;
    const half = await halfSentRequest(server.url);
    const hung = post(server.url, '/api/models/hang/prediction', { mode: 'hang' }).catch((error: Error) => error);
    while (model.hanging === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const halfClosed = new Promise<void>((resolve) => half.once('close', () => resolve()));
    const started = performance.now();
    await server.close();
    const took = performance.now() - started;
    model.release();
    assert.ok(took >= 250 && took < 3000, `close() took ${Math.round(took)} ms, expected about shutdown_timeout_ms (300)`);
    await halfClosed;
    const answer = await hung;
    assert.ok(answer instanceof Error, 'the call that outlived the timeout lost its connection');
    assert.equal(server.registry.require('hang').state, 'unloaded');
  });

  it('with shutdown_timeout_ms: 0, waits for a call in flight however long it takes, then closes its idle connection soon', async () => {
    const server = await serve({ shutdown_timeout_ms: 0 });
    const model = server.registry.require('hang').model as unknown as HangModel;
    const hung = post(server.url, '/api/models/hang/prediction', { mode: 'hang', value: 7 });
    while (model.hanging === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(closed, false, 'close() still waits for the call');
    model.release();
    const released = performance.now();
    const answer = await hung;
    assert.equal(answer.status, 200, 'the call that started before the drain is answered');
    await closing;
    // Its connection went idle during the drain: closed after half a second, not after the keep-alive timeout (the
    // client's own idle timeout, 5 s, would otherwise end it).
    const idleClosed = performance.now() - released;
    assert.ok(idleClosed < 3000, `close() finished ${Math.round(idleClosed)} ms after the answer`);
  });
});
