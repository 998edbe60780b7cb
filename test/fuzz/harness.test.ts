/**
 * The fuzz harness itself, against a tiny server that answers what the judge must refuse: a run fails (so a green run
 * means the server passed, not that the harness cannot fail), names the command that replays the failure, and the
 * settings read from the environment refuse values they cannot use.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CI_SEED, fuzz, fuzzEnvironment, newReport, record } from './harness.ts';
import type { FuzzRequest } from './wire.ts';

const PREDICT: FuzzRequest = { method: 'POST', path: '/api/models/iris/prediction', headers: { 'content-type': 'application/json' }, body: Buffer.from('{}'), label: 'test' };

describe('the fuzz harness', () => {
  let server: Server;
  let base: URL;

  before(async () => {
    // Every answer is a 500 InferenceError: a defect for the judge.
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(500, { 'content-type': 'application/json', 'x-request-id': 'r' });
        response.end('{"type":"InferenceError","message":"boom","details":[]}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fails a run on the first bad answer, with the command that replays it and the request as curl', async () => {
    const where = { file: '/repo/test/fuzz/some.test.ts', test: "answers it's fine" };
    await assert.rejects(fuzz(newReport(), base, fc.constant(PREDICT), { seed: 7, runs: 5 }, where), (error: Error) => {
      assert.match(error.message, /^fuzz failure after 1 run\(s\); replay: FUZZ_SEED=7 FUZZ_PATH=\S+ node --import tsx --test --test-name-pattern 'answers it.s fine' test\/fuzz\/some\.test\.ts\n/);
      assert.match(error.message, /500 InferenceError: boom/);
      assert.match(error.message, /repro: curl -sS -X POST -H 'content-type: application\/json' --data-binary '\{\}' 'http:\/\/127\.0\.0\.1:\d+\/api\/models\/iris\/prediction'/);
      return true;
    });
  });

  it('counts a tolerated known-open answer instead of failing, and fails a request left without an answer', () => {
    const report = newReport();
    const raw408 = { ...PREDICT, method: 'GET', path: '/v2/health/live', raw: true };
    const restBody = { status: 408, headers: { 'content-type': 'application/json', 'x-request-id': 'r' }, body: Buffer.from('{"type":"RequestTimeoutError","message":"m","details":[]}'), ms: 1 };
    record(report, base, raw408, restBody);
    assert.deepEqual([...report.tolerated], [['v2-headers-timeout-rest-body', 1]]);
    assert.deepEqual([...report.statuses], [[408, 1]]);
    assert.throws(() => record(report, base, PREDICT, undefined, new Error('socket hang up')), /^Error: no answer: socket hang up\n {2}request: test\n {2}repro: curl /);
  });
});

describe('the fuzz settings from the environment', () => {
  it('use the CI seed and runs by default, 66x the runs in long mode, FUZZ_RUNS scaling them', () => {
    assert.deepEqual(fuzzEnvironment({}), { seed: CI_SEED, factor: 1, collect: false });
    assert.equal(fuzzEnvironment({ FUZZ_MODE: 'long' }).factor, 66);
    assert.deepEqual(fuzzEnvironment({ FUZZ_SEED: '-3', FUZZ_RUNS: '50', FUZZ_PATH: '0:1', FUZZ_COLLECT: '1' }), { seed: -3, factor: 50 / 150, path: '0:1', collect: true });
  });

  it('refuse a seed or a number of runs that is not a whole number, saying which', () => {
    assert.throws(() => fuzzEnvironment({ FUZZ_SEED: 'abc' }), /^Error: FUZZ_SEED must be a whole number \(the seed a failure printed\), got 'abc'$/);
    assert.throws(() => fuzzEnvironment({ FUZZ_RUNS: '0' }), /^Error: FUZZ_RUNS must be a whole number of requests, at least 1, got '0'$/);
    assert.throws(() => fuzzEnvironment({ FUZZ_RUNS: '2.5' }), /FUZZ_RUNS must be/);
  });
});
