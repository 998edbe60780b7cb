/**
 * Decorators stack in the order they are listed: the first is the outermost, so it sees the request first and the
 * response last. Two user decorator classes trace their passage; swapping them in the YAML swaps the trace. Also: a
 * user decorator gets its configuration and the setup, and one that throws an ordinary error is a 500 naming it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { fixturePath, predict } from './decorator-helpers.ts';

describe('decorator stacking order over HTTP', () => {
  let harness: Harness;
  const model = fixturePath('trace.ts', 'TraceModel');
  before(async () => {
    harness = await serveYaml(
      [
        'models:',
        `  - class_path: ${model}`,
        '    qualified_name: alpha_beta',
        '    decorators:',
        `      - class_path: ${fixturePath('trace.ts', 'Alpha')}`,
        `      - class_path: ${fixturePath('trace.ts', 'Beta')}`,
        `  - class_path: ${model}`,
        '    qualified_name: beta_alpha',
        '    decorators:',
        `      - class_path: ${fixturePath('trace.ts', 'Beta')}`,
        '        configuration: {note: hello}',
        `      - class_path: ${fixturePath('trace.ts', 'Alpha')}`,
        `  - class_path: ${model}`,
        '    qualified_name: broken',
        '    decorators:',
        `      - class_path: ${fixturePath('trace.ts', 'Broken')}`,
        `  - class_path: ${model}`,
        '    qualified_name: plain',
      ].join('\n'),
    );
  });
  after(() => harness.close());

  it('runs the first listed decorator outermost: in first on the way in, last on the way out', async () => {
    const response = await predict(harness, 'alpha_beta', { trace: ['client'] });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { trace: ['client', 'alpha:in', 'beta:in', 'model', 'beta:out', 'alpha:out'] });
  });

  it('follows the YAML order, not the classes: listed the other way round, the trace is reversed', async () => {
    const response = await predict(harness, 'beta_alpha', { trace: [] });
    // beta:hello@beta_alpha: beta got its configuration and the setup of its model.
    assert.deepEqual(response.json(), { trace: ['beta:in', 'alpha:in', 'model', 'alpha:out', 'beta:out', 'beta:hello@beta_alpha'] });
    const plain = await predict(harness, 'plain', { trace: [] });
    assert.deepEqual(plain.json(), { trace: ['model'] }, 'without decorators the model alone answers');
  });

  it('runs the chain once per record of /predictions', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/alpha_beta/predictions', payload: [{ trace: ['1'] }, { trace: ['2'] }] });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), [
      { trace: ['1', 'alpha:in', 'beta:in', 'model', 'beta:out', 'alpha:out'] },
      { trace: ['2', 'alpha:in', 'beta:in', 'model', 'beta:out', 'alpha:out'] },
    ]);
  });

  it('turns an ordinary error thrown by a decorator into a 500 InferenceError naming the decorator and the model', async () => {
    const response = await predict(harness, 'broken', { trace: [] });
    assert.equal(response.statusCode, 500, response.body);
    const body = response.json<{ type: string; message: string }>();
    assert.equal(body.type, 'InferenceError');
    assert.match(body.message, /decorator '.*trace\.ts#Broken' of model 'broken' failed: the audit service is down/);
  });
});
