/**
 * longshore:checks: the named check functions run in order before the model; the first that throws (or returns false)
 * answers 400 SchemaValidationError with its message and the model is not called; passing checks reach the model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChecksDecorator } from '../../src/decorators/builtin/checks.ts';
import { SchemaValidationError } from '../../src/errors.ts';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { fixturePath, predict, testSetup } from './decorator-helpers.ts';

describe('ChecksDecorator (class)', () => {
  it('refuses an empty list of checks, and names a missing check with the module’s exports at load', async () => {
    assert.throws(() => new ChecksDecorator({ module: './input-checks.ts', checks: [] }, testSetup()), /checks must be a list of at least one export name, got \[\]/);
    const decorator = new ChecksDecorator({ module: './input-checks.ts', checks: ['positiveA', 'isEven'] }, testSetup());
    await assert.rejects(Promise.resolve(decorator.load()), /configuration\.checks: '\.\/input-checks\.ts' has no export 'isEven'; its exports are: bNotSeven, positiveA, sumBelow100/);
    const missingModule = new ChecksDecorator({ module: './nowhere.ts', checks: ['a'] }, testSetup());
    await assert.rejects(Promise.resolve(missingModule.load()), /decorator 'longshore:checks': configuration\.module: file not found: .*nowhere\.ts/);
  });

  it('stops at the first failing check, in the listed order, without calling next', async () => {
    const decorator = new ChecksDecorator({ module: './input-checks.ts', checks: ['sumBelow100', 'positiveA'] }, testSetup());
    await decorator.load();
    let called = 0;
    const next = async () => ++called;
    await assert.rejects(Promise.resolve(decorator.predict({ a: -5, b: 200 }, next, {})), (error: unknown) => {
      assert.ok(error instanceof SchemaValidationError);
      assert.equal(error.message, "input check 'sumBelow100' failed: a + b must be below 100, got 195");
      return true;
    });
    assert.equal(called, 0);
    assert.equal(await decorator.predict({ a: 1, b: 2 }, next, {}), 1);
  });
});

describe('longshore:checks over HTTP', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveYaml(
      [
        'models:',
        `  - class_path: ${fixturePath('counter-model.ts', 'CounterModel')}`,
        '    decorators:',
        '      - class_path: longshore:checks',
        `        configuration: {module: ${fixturePath('input-checks.ts')}, checks: [positiveA, sumBelow100, bNotSeven]}`,
      ].join('\n'),
    );
  });
  after(() => harness.close());

  it('answers 400 with the failing check’s message and does not call the model', async () => {
    const negative = await predict(harness, 'counter', { a: -1, b: 2 });
    assert.equal(negative.statusCode, 400, negative.body);
    assert.deepEqual(negative.json(), {
      type: 'SchemaValidationError',
      message: "input check 'positiveA' failed: a must be positive, got -1",
      details: [{ path: '/', message: 'a must be positive, got -1' }],
    });
    const big = await predict(harness, 'counter', { a: 60, b: 50 });
    assert.equal(big.statusCode, 400, big.body);
    assert.equal(big.json<{ message: string }>().message, "input check 'sumBelow100' failed: a + b must be below 100, got 110");
    const seven = await predict(harness, 'counter', { a: 1, b: 7 });
    assert.equal(seven.statusCode, 400, seven.body);
    assert.equal(seven.json<{ message: string }>().message, "input check 'bNotSeven' failed: it returned false");
    // Three refusals, then the first request the model sees is its call 1.
    const ok = await predict(harness, 'counter', { a: 2, b: 3 });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { sum: 5, call: 1 });
  });

  it('still validates against the schema before the checks run', async () => {
    const response = await predict(harness, 'counter', { a: 'one', b: 2 });
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(response.json<{ details: { path: string }[] }>().details.map((d) => d.path), ['/a']);
  });
});
