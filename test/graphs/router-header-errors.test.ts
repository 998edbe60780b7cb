/**
 * A routing header value that picks no member, as a client sees it (issue 14): a 400 whose detail names the header as
 * `headers/<name>` (fastify's convention, never a JSON pointer into the body), with the client's value quoted bounded
 * however long it is, over REST and V2.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { member, predict, serveModels, type Harness } from './graph-harness.ts';

describe('router: a header value that picks no member', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      `  - class_path: ${member('HeaderEcho')}`,
      '    qualified_name: control',
      `  - class_path: ${member('HeaderEcho')}`,
      '    qualified_name: candidate',
      '  - qualified_name: ab',
      '    graph: {kind: router, header: X-Variant, members: [control, {model: candidate, header_value: canary}]}',
    ]);
  });
  after(() => harness.close());

  it('names the header in the detail path, not a body pointer', async () => {
    const response = await predict(harness, 'ab', { x: 1 }, { 'x-variant': 'beta' });
    assert.equal(response.statusCode, 400, response.body);
    const expected = 'header x-variant is "beta", which picks no member; accepted values: control, canary';
    assert.deepEqual(response.json().details, [{ path: 'headers/x-variant', message: expected }]);
    assert.equal(response.json().message, `router 'ab': ${expected}`);
  });

  it('quotes a long value at most 100 characters long', async () => {
    const response = await predict(harness, 'ab', { x: 1 }, { 'x-variant': 'v'.repeat(8000) });
    assert.equal(response.statusCode, 400, response.body);
    const { message } = response.json() as { message: string };
    assert.match(message, /^router 'ab': header x-variant is "v{99}…, which picks no member; accepted values: control, canary$/);
  });

  it('answers V2 infer with the same message in the protocol body', async () => {
    const response = await harness.app.inject({
      method: 'POST',
      url: '/v2/models/ab/infer',
      headers: { 'x-variant': 'beta' },
      payload: { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [1] }] },
    });
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(response.json(), { error: 'router \'ab\': header x-variant is "beta", which picks no member; accepted values: control, canary' });
  });
});
