/**
 * Self-test comparison (src/model/self-test.ts) without a model: only the fields the expected output names are
 * compared, arrays element by element, numbers within a tolerance; failures are one line per example, listing at most
 * five differences; the class's examples go to the direct call, the config's to the served one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callerExamples, DEFAULT_TOLERANCE, differencesOf, exampleName, runExamples, runSelfTests } from '../../src/model/self-test.ts';

const diff = (expected: unknown, actual: unknown, tolerance = DEFAULT_TOLERANCE) => differencesOf(expected, actual, tolerance, '');

describe('differencesOf', () => {
  it('finds none when the answer has the expected fields, ignoring extra ones', () => {
    assert.deepEqual(diff({ label: 'setosa', scores: [0.1, 0.9] }, { label: 'setosa', scores: [0.1, 0.9], id: 'x' }), []);
  });

  it('compares numbers within the tolerance (1e-6 unless given), inclusive', () => {
    assert.equal(DEFAULT_TOLERANCE, 1e-6);
    assert.deepEqual(diff(1, 1 + 5e-7), []);
    assert.deepEqual(diff(1, 1.00001), ['/: expected 1, got 1.00001']);
    assert.deepEqual(diff(1, 1.25, 0.25), []);
    assert.deepEqual(diff(1, 1.5, 0.25), ['/: expected 1, got 1.5']);
    assert.deepEqual(diff(Number.NaN, Number.NaN), [], 'NaN matches NaN');
  });

  it('points at each difference with a JSON pointer path', () => {
    assert.deepEqual(diff({ a: { b: [1, 2, 3] }, c: 'x' }, { a: { b: [1, 5, 3] }, c: 'y' }), ['/a/b/1: expected 2, got 5', '/c: expected "x", got "y"']);
  });

  it('reports missing fields, wrong kinds and array lengths', () => {
    assert.deepEqual(diff({ a: 1, b: 2 }, { a: 1 }), ['/b: missing from the answer']);
    assert.deepEqual(diff({ a: [1] }, { a: 1 }), ['/a: expected an array, got 1']);
    assert.deepEqual(diff({ a: [1, 2] }, { a: [1] }), ['/a: expected 2 elements, got 1']);
    assert.deepEqual(diff({ a: { b: 1 } }, { a: [1] }), ['/a: expected an object, got [1]']);
    assert.deepEqual(diff({ a: 1 }, null), ['/: expected an object, got null']);
    assert.deepEqual(diff(true, 'true'), ['/: expected true, got "true"']);
    assert.deepEqual(diff(null, null), []);
    assert.deepEqual(diff('1', 1), ['/: expected "1", got 1']);
  });

  it('shortens a long actual value to 80 characters', () => {
    const [line] = diff('short', 'x'.repeat(200));
    assert.equal(line, `/: expected "short", got "${'x'.repeat(76)}...`);
  });

  it(
    'escapes / and ~ in field names of the path, as JSON pointers and the validators do',
    () => {
      assert.deepEqual(diff({ 'a/b': 1, 'c~d': 2 }, { 'a/b': 2, 'c~d': 3 }), ['/a~1b: expected 1, got 2', '/c~0d: expected 2, got 3']);
    },
  );

  it('finds no difference between equal infinities', () => {
    assert.deepEqual(diff(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY), []);
  });
});

describe('runExamples', () => {
  it('passes examples whose answers match, and those without expected_output that merely succeed', async () => {
    const seen: unknown[] = [];
    const failures = await runExamples(
      [{ input: 1, expected_output: { y: 2 } }, { input: 5 }],
      async (input) => {
        seen.push(input);
        return { y: (input as number) * 2 };
      },
    );
    assert.deepEqual(failures, []);
    assert.deepEqual(seen, [1, 5], 'one after another, in order');
  });

  it('gives one line per failing example, by its name or position, whether it threw or answered differently', async () => {
    const failures = await runExamples(
      [
        { name: 'doubles', input: 1, expected_output: { y: 3 } },
        { input: 'boom', expected_output: {} },
        { input: 2, expected_output: { y: 4.1 }, tolerance: 0.2 },
      ],
      async (input) => {
        if (input === 'boom') throw new Error('model exploded');
        return { y: (input as number) * 2 };
      },
      3,
    );
    assert.deepEqual(failures, ["self-test 'doubles' answered differently than expected: /y: expected 3, got 2", "self-test 'example 4' failed: model exploded"]);
  });

  it('lists at most five differences per example and counts the rest', async () => {
    const [line] = await runExamples([{ name: 'v', input: null, expected_output: [1, 2, 3, 4, 5, 6, 7] }], async () => [0, 0, 0, 0, 0, 0, 0]);
    assert.equal(
      line,
      "self-test 'v' answered differently than expected: /0: expected 1, got 0; /1: expected 2, got 0; /2: expected 3, got 0; /3: expected 4, got 0; /4: expected 5, got 0 (and 2 more)",
    );
  });

  it('reports a thrown non-Error value by its text', async () => {
    assert.deepEqual(await runExamples([{ input: 1 }], () => Promise.reject('plain string')), ["self-test 'example 0' failed: plain string"]);
  });

  it('reports a thrown undefined or null as a failure instead of rejecting', async () => {
    const failures = await runExamples([{ input: 1 }], () => Promise.reject(undefined));
    assert.deepEqual(failures, ["self-test 'example 0' failed: undefined"]);
  });
});

describe('runSelfTests, callerExamples and exampleName', () => {
  it("sends the class's examples to the direct call and the config's to the served one, numbering them in one sequence", async () => {
    const direct = async (input: unknown) => ({ via: 'direct', input });
    const served = async (input: unknown) => ({ via: 'served', input });
    const failures = await runSelfTests(
      [{ input: 1, expected_output: { via: 'direct' } }, { input: 2, expected_output: { via: 'served' } }],
      [{ input: 3, expected_output: { via: 'served' } }, { input: 4, expected_output: { via: 'direct' } }],
      direct,
      served,
    );
    assert.deepEqual(failures, [
      `self-test 'example 1' answered differently than expected: /via: expected "served", got "direct"`,
      `self-test 'example 3' answered differently than expected: /via: expected "direct", got "served"`,
    ]);
  });

  it('names examples by their name, else their position', () => {
    assert.equal(exampleName({ name: 'iris', input: {} }, 4), 'iris');
    assert.equal(exampleName({ input: {} }, 4), 'example 4');
  });

  it("lists the class's examples as caller examples only when they are in the caller's schema", () => {
    const own = [{ name: 'a', input: 1 }, { input: 2 }];
    const config = [{ input: 3 }];
    assert.deepEqual(callerExamples(own, config, true), [
      { name: 'a', input: 1 },
      { name: 'example 1', input: 2 },
      { name: 'example 2', input: 3 },
    ]);
    assert.deepEqual(callerExamples(own, config, false), [{ name: 'example 2', input: 3 }]);
  });
});
