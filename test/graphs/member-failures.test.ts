/**
 * Failing members, in every kind of graph: the error names the graph and the member and keeps the member's status
 * (500 for a member that throws, 400 for a member whose input schema rejects what it got); an answer a combination
 * cannot use names the member and field; a member that fails to load fails the graph, which holds readiness.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CAT, member, predict, serveModels, type Harness } from './graph-harness.ts';

const THROWER = [
  `  - class_path: ${member('NegativeThrower')}`,
  '    qualified_name: thrower',
  '    configuration: {label: cat, message: cannot handle negatives}',
];

describe('a member that fails a call', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      ...CAT,
      ...THROWER,
      `  - class_path: ${member('Scaler')}`,
      '    qualified_name: triple',
      '    configuration: {factor: 3}',
      `  - class_path: ${member('Scaler')}`,
      '    qualified_name: capped',
      '    configuration: {factor: 1, max: 10}',
      `  - class_path: ${member('LinearRegressor')}`,
      '    qualified_name: line',
      '  - qualified_name: vote',
      '    graph: {kind: ensemble, members: [cat, thrower]}',
      '  - qualified_name: vote_on_numbers',
      '    graph: {kind: ensemble, members: [cat, line]}',
      '  - qualified_name: chain',
      '    graph: {kind: pipeline, members: [triple, {model: capped, map: {scaled: x}}]}',
      '  - qualified_name: chain_thrower',
      '    graph: {kind: pipeline, members: [line, {model: thrower, map: {y: x}}]}',
      '  - qualified_name: route',
      '    graph: {kind: router, header: x-to, members: [line, capped, thrower]}',
    ]);
  });
  after(() => harness.close());

  function assertError(response: { statusCode: number; body: string; json(): { type: string; message: string; details: unknown[] } }, status: number, type: string, prefix: string): { message: string; details: unknown[] } {
    assert.equal(response.statusCode, status, response.body);
    const body = response.json();
    assert.equal(body.type, type);
    assert.ok(body.message.startsWith(prefix), body.message);
    return body;
  }

  it('ensemble: a member that throws is a 500 naming the graph and the member', async () => {
    assert.equal((await predict(harness, 'vote', { x: 1 })).json().label, 'cat');
    const body = assertError(await predict(harness, 'vote', { x: -1 }), 500, 'InferenceError', "ensemble 'vote': member 'thrower' failed: ");
    assert.match(body.message, /cannot handle negatives/);
  });

  it('ensemble: a member answer without the voted field names the member and the field', async () => {
    assertError(await predict(harness, 'vote_on_numbers', { x: 1 }), 500, 'InferenceError', "ensemble 'vote_on_numbers': member 'line' answered no field 'label'");
  });

  it("pipeline: a member whose input schema rejects the previous output is a 400 with the member's details", async () => {
    assert.deepEqual((await predict(harness, 'chain', { x: 3 })).json(), { scaled: 9, note: 'times 1' });
    const body = assertError(await predict(harness, 'chain', { x: 4 }), 400, 'SchemaValidationError', "pipeline 'chain': member 'capped' failed: ");
    assert.match(body.message, /input does not match the input schema of model 'capped'/);
    assert.deepEqual(body.details, [{ path: '/x', message: 'must be <= 10' }]);
  });

  it('pipeline: a later member that throws is a 500 naming it', async () => {
    assert.equal((await predict(harness, 'chain_thrower', { x: 2 })).statusCode, 200);
    assertError(await predict(harness, 'chain_thrower', { x: -2 }), 500, 'InferenceError', "pipeline 'chain_thrower': member 'thrower' failed: ");
  });

  it('router: the picked member fails with its own status', async () => {
    const ok = await predict(harness, 'route', { x: 50 }, { 'x-to': 'line' });
    assert.equal(ok.statusCode, 200, ok.body);
    assertError(await predict(harness, 'route', { x: 50 }, { 'x-to': 'capped' }), 400, 'SchemaValidationError', "router 'route': member 'capped' failed: ");
    assertError(await predict(harness, 'route', { x: -1 }, { 'x-to': 'thrower' }), 500, 'InferenceError', "router 'route': member 'thrower' failed: ");
  });
});

describe('a member that is too slow or too busy', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      ...CAT,
      `  - class_path: ${member('Sleeper')}`,
      '    qualified_name: late',
      '    timeout_ms: 20',
      '    configuration: {delay_ms: 300}',
      `  - class_path: ${member('Sleeper')}`,
      '    qualified_name: busy',
      '    max_concurrency: 1',
      '    max_queue_size: 1',
      '    configuration: {delay_ms: 150}',
      '  - qualified_name: slow_vote',
      '    graph: {kind: ensemble, members: [cat, late]}',
      '  - qualified_name: busy_chain',
      '    graph: {kind: pipeline, members: [cat, busy]}',
    ]);
  });
  after(() => harness.close());

  it("passes on the member's 504 DeadlineExceededError", async () => {
    const response = await predict(harness, 'slow_vote', { x: 1 });
    assert.equal(response.statusCode, 504, response.body);
    assert.equal(response.json().type, 'DeadlineExceededError');
    assert.ok(response.json().message.startsWith("ensemble 'slow_vote': member 'late' failed: deadline of 20 ms passed"), response.json().message);
  });

  it("passes on the member's 503 QueueFullError with its Retry-After", async () => {
    const responses = await Promise.all([1, 2, 3, 4].map((x) => predict(harness, 'busy_chain', { x })));
    assert.deepEqual(responses.map((response) => response.statusCode).sort(), [200, 200, 503, 503]);
    const full = responses.find((response) => response.statusCode === 503);
    assert.equal(full?.json().type, 'QueueFullError');
    assert.ok(full?.json().message.startsWith("pipeline 'busy_chain': member 'busy' failed: the queue of model 'busy' is full"), full?.body);
    assert.ok(Number(full?.headers['retry-after']) > 0, 'Retry-After is kept');
  });
});

describe('a member that fails to load', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      ...CAT,
      `  - class_path: ${member('BrokenLoad')}`,
      '    qualified_name: broken',
      '    required: false',
      '    configuration: {message: weights file is corrupt}',
      '  - qualified_name: vote',
      '    graph: {kind: ensemble, members: [cat, broken]}',
      '  - qualified_name: outer',
      '    required: false',
      '    graph: {kind: router, members: [cat, vote]}',
    ]);
  });
  after(() => harness.close());

  it('fails the graph with a message naming the member, and graphs above it too', async () => {
    const listing = (await harness.app.inject({ method: 'GET', url: '/api/models' })).json();
    const byName = new Map<string, { status: string; error?: string }>(listing.models.map((model: { qualified_name: string }) => [model.qualified_name, model]));
    assert.equal(byName.get('cat')?.status, 'ready');
    assert.equal(byName.get('broken')?.status, 'failed');
    assert.equal(byName.get('vote')?.status, 'failed');
    assert.equal(byName.get('vote')?.error, "member 'broken' is failed: weights file is corrupt");
    assert.equal(byName.get('outer')?.status, 'failed');
    assert.equal(byName.get('outer')?.error, "member 'vote' is failed: member 'broken' is failed: weights file is corrupt");

    const call = await predict(harness, 'vote', { x: 1 });
    assert.equal(call.statusCode, 503);
    assert.match(call.json().message, /model 'vote' failed to load: member 'broken' is failed/);
  });

  it('holds readiness while the graph is required', async () => {
    const ready = await harness.app.inject({ method: 'GET', url: '/api/health/ready' });
    assert.equal(ready.statusCode, 503, ready.body);
  });
});

describe('a failed member of an optional graph', () => {
  it('leaves readiness alone when neither the member nor the graph is required', async () => {
    const harness = await serveModels([
      ...CAT,
      `  - class_path: ${member('BrokenLoad')}`,
      '    qualified_name: broken',
      '    required: false',
      '  - qualified_name: vote',
      '    required: false',
      '    graph: {kind: ensemble, members: [cat, broken]}',
    ]);
    try {
      assert.equal(harness.registry.require('vote').state, 'failed');
      const ready = await harness.app.inject({ method: 'GET', url: '/api/health/ready' });
      assert.equal(ready.statusCode, 200, ready.body);
    } finally {
      await harness.close();
    }
  });
});
