/**
 * The fuzzer's own judge and oracles, on answers and bodies made by hand: each rule must catch what it is for (so a
 * green fuzz run means the server passed them, not that they cannot fail), and pass what the server should send.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { documentedStatuses, judge, problemsOf } from './checks.ts';
import { DEEP_ARRAY, raw, toJsonText } from './mutations.ts';
import { illFormedData } from './v2-bodies.ts';
import type { FuzzRequest, FuzzResponse } from './wire.ts';

const REST: FuzzRequest = { method: 'POST', path: '/api/models/iris/prediction', headers: {}, label: 'test' };
const V2: FuzzRequest = { method: 'POST', path: '/v2/models/iris/infer', headers: {}, label: 'test' };

function answer(status: number, body: unknown, headers: Record<string, string> = {}, ms = 3): FuzzResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r', ...headers }, body: Buffer.from(text), ms };
}

describe('the fuzz judge', () => {
  it('passes catalogue errors and the documented 5xx', () => {
    assert.deepEqual(problemsOf(REST, answer(400, { type: 'SchemaValidationError', message: 'm', details: [{ path: '/', message: 'x' }] })), []);
    assert.deepEqual(problemsOf(REST, answer(503, { type: 'QueueFullError', message: 'm', details: [] })), []);
    assert.deepEqual(problemsOf(REST, answer(504, { type: 'DeadlineExceededError', message: 'm', details: [] })), []);
    assert.deepEqual(problemsOf(V2, answer(501, { error: 'no explain' })), []);
    assert.deepEqual(problemsOf(V2, answer(200, { model_name: 'iris', outputs: [] })), []);
  });

  it('flags every 500, on REST by its type and on /v2 by its status', () => {
    assert.match(problemsOf(REST, answer(500, { type: 'InferenceError', message: 'boom', details: [] })).join(), /500 InferenceError: boom/);
    assert.match(problemsOf(V2, answer(500, { error: 'boom' })).join(), /500 on \/v2: boom/);
  });

  it('flags error bodies outside the catalogue format', () => {
    assert.match(problemsOf(REST, answer(400, { error: 'x' })).join(), /REST error body must be/);
    assert.match(problemsOf(V2, answer(400, { type: 'SchemaValidationError', message: 'm', details: [] })).join(), /\/v2 error body must be/);
    assert.match(problemsOf(REST, answer(400, { type: 'NoSuchError', message: 'm', details: [] })).join(), /not a key of ERROR_STATUS/);
    assert.match(problemsOf(REST, answer(404, { type: 'SchemaValidationError', message: 'm', details: [] })).join(), /is 400 in ERROR_STATUS, answered 404/);
    assert.match(problemsOf(REST, answer(400, 'Bad Request', { 'content-type': 'text/plain' })).join(), /not JSON/);
    assert.match(problemsOf(REST, answer(400, '{"type":', {})).join(), /body is not JSON/);
    assert.match(problemsOf(REST, answer(400, { type: 'SchemaValidationError', message: 'm', details: [{ path: 1, message: 'x' }] })).join(), /a detail is not \{path, message\}/);
  });

  it('flags statuses missing from docs/errors.md, answers without x-request-id, and slow answers', () => {
    assert.ok(documentedStatuses().has(400) && !documentedStatuses().has(418));
    assert.match(problemsOf(REST, answer(418, { type: 'X', message: 'm', details: [] })).join(), /418 is not in docs\/errors.md/);
    assert.match(problemsOf(REST, { ...answer(200, {}), headers: { 'content-type': 'application/json' } }).join(), /no x-request-id/);
    assert.match(problemsOf(REST, answer(200, {}, {}, 6000)).join(), /answered after 6000 ms/);
  });

  it('flags framed binary answers whose sizes do not add up', () => {
    const header = JSON.stringify({ outputs: [{ name: 'y', parameters: { binary_data_size: 8 } }] });
    const framed = (tail: number): FuzzResponse => ({
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'x-request-id': 'r', 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([Buffer.from(header), Buffer.alloc(tail)]),
      ms: 1,
    });
    assert.deepEqual(problemsOf(V2, framed(8)), []);
    assert.match(problemsOf(V2, framed(4)).join(), /do not add up/);
    const lying = (announced: string): FuzzResponse => ({ ...framed(8), headers: { ...framed(8).headers, 'inference-header-content-length': announced } });
    assert.match(problemsOf(V2, lying('9999')).join(), /Inference-Header-Content-Length 9999 for a body of \d+ bytes/);
    assert.match(problemsOf(V2, lying('3')).join(), /the first 3 bytes of a framed answer are not JSON/);
  });

  it('flags a 200 to a body the generator knows must be refused', () => {
    assert.match(problemsOf({ ...V2, mustRefuse: 'mixed data' }, answer(200, { outputs: [] })).join(), /silent wrong answer/);
    assert.deepEqual(problemsOf({ ...V2, mustRefuse: 'mixed data' }, answer(400, { error: 'mixed' })), []);
  });

  it('tolerates a known-open class only for exactly its case', () => {
    const raw408 = { ...V2, path: '/v2/health/live', raw: true };
    const restBody = answer(408, { type: 'RequestTimeoutError', message: 'm', details: [] });
    assert.equal(judge(raw408, restBody).tolerated?.id, 'v2-headers-timeout-rest-body');
    assert.equal(judge({ ...raw408, raw: false }, restBody).tolerated, undefined);
    assert.equal(judge(raw408, answer(500, { error: 'x' })).tolerated, undefined);
  });
});

describe('the fuzz generators', () => {
  it('write values JSON cannot hold verbatim (beyond float64, -0, 10,000 levels of nesting)', () => {
    assert.equal(toJsonText({ a: raw('1e400'), b: [raw('-0')], c: 'x' }), '{"a":1e400,"b":[-0],"c":"x"}');
    assert.equal(toJsonText([raw(DEEP_ARRAY)]).length, DEEP_ARRAY.length + 2);
  });

  it('know which V2 data fits its shape neither flat nor nested', () => {
    const input = (shape: unknown, data: unknown) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape, data }] });
    assert.equal(illFormedData(input([1, 4], [1, 2, 3, 4])), undefined);
    assert.equal(illFormedData(input([2, 2], [[1, 2], [3, 4]])), undefined);
    assert.equal(illFormedData(input([], [7])), undefined);
    assert.match(illFormedData(input([1, 4], [1, 2, [3, 5], 4])) ?? '', /neither flat nor nested/);
    assert.match(illFormedData(input([1, 4], [1, 2, [], 3])) ?? '', /neither flat nor nested/);
    assert.match(illFormedData(input([2, 2], [[1, 2], 3, 4])) ?? '', /neither flat nor nested/);
    assert.match(illFormedData(input([1, 4], [1, 2, 3])) ?? '', /neither flat nor nested/);
    // No claim when the shape itself is invalid: the server refuses that for another reason.
    assert.equal(illFormedData(input([-1, 4], [1])), undefined);
  });
});
