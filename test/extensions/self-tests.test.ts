/**
 * Self-tests: examples from the model class and from YAML run after load (a failing one fails the model, with the
 * difference shown), the deep readiness probe runs them again (rate-limited), and they appear as OpenAPI examples.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';

/** y = x * factor, the factor read from a file on every call, so a test can change the model's answers after load. */
const SCALER = `
import { readFileSync } from 'node:fs';
export class Scaler {
  qualified_name = 'scaler';
  display_name = 'Scaler';
  description = 'y = x times the factor in a file.';
  version = '1';
  input_schema = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] };
  output_schema = { type: 'object', properties: { y: { type: 'number' }, note: { type: 'string' } }, required: ['y'] };
  examples = [{ name: 'unit', input: { x: 1 }, expected_output: { y: 2 } }];
  constructor(configuration) { this.file = new URL(configuration.factor_file, import.meta.url); }
  predict(input) { return { y: input.x * Number(readFileSync(this.file, 'utf8')), note: 'scaled' }; }
}
`;

describe('self-tests after load', () => {
  let harness: Harness;

  before(async () => {
    harness = await serveYaml(
      `
models:
  - class_path: ./scaler.ts#Scaler
    qualified_name: passes
    configuration: {factor_file: ./two.txt}
    examples:
      - {name: ten, input: {x: 10}, expected_output: {y: 20.0000001}, tolerance: 0.001}
      - {input: {x: 0}}
  - class_path: ./scaler.ts#Scaler
    qualified_name: wrong_expectation
    required: false
    configuration: {factor_file: ./two.txt}
    examples:
      - {name: three, input: {x: 3}, expected_output: {y: 7, note: scaled}}
  - class_path: ./scaler.ts#Scaler
    qualified_name: bad_input
    required: false
    configuration: {factor_file: ./two.txt}
    examples:
      - {name: typo, input: {X: 3}}
  - model_path: ${JSON.stringify(join(import.meta.dirname, '../fixtures/onnx/iris_logreg.onnx'))}
    qualified_name: iris_onnx
    examples:
      - name: setosa
        input: {input: [5.1, 3.5, 1.4, 0.2]}
        expected_output: {label: 0}
`,
      { 'scaler.ts': SCALER, 'two.txt': '2' },
    );
  });
  after(() => harness.close());

  const statusOf = async (name: string) => (await harness.app.inject(`/api/models/${name}/metadata`)).json();

  it('a model whose examples (from the class and from YAML, ONNX too) all pass is ready', async () => {
    assert.equal((await statusOf('passes')).status, 'ready');
    assert.equal((await statusOf('iris_onnx')).status, 'ready');
    assert.equal((await harness.app.inject('/api/health/ready')).statusCode, 200);
  });

  it('a failing example marks the model failed, and its error shows the difference', async () => {
    const metadata = await statusOf('wrong_expectation');
    assert.equal(metadata.status, 'failed');
    assert.equal(metadata.error, "self-test 'three' answered differently than expected: /y: expected 7, got 6");
    const call = await harness.app.inject({ method: 'POST', url: '/api/models/wrong_expectation/prediction', payload: { x: 1 } });
    assert.equal(call.statusCode, 503);
    assert.match(call.json().message, /failed to load: self-test 'three'/);
  });

  it('an example whose input fails the schema fails the model with the validation message', async () => {
    const metadata = await statusOf('bad_input');
    assert.equal(metadata.status, 'failed');
    assert.match(metadata.error, /^self-test 'typo' failed: input does not match the input schema of model 'bad_input'/);
  });

  it('the examples are listed in the metadata and are request examples in the OpenAPI document', async () => {
    const metadata = await statusOf('passes');
    assert.deepEqual(
      metadata.examples.map((example: { name?: string }) => example.name),
      ['unit', 'ten', undefined],
    );
    const document = (await harness.app.inject('/openapi.json')).json();
    const examples = document.paths['/api/models/passes/prediction'].post.requestBody.content['application/json'].examples;
    assert.deepEqual(examples, {
      unit: { summary: 'unit', value: { x: 1 } },
      ten: { summary: 'ten', value: { x: 10 } },
      'example 2': { summary: 'example 2', value: { x: 0 } },
    });
    const iris = document.paths['/api/models/iris_onnx/prediction'].post.requestBody.content['application/json'].examples;
    assert.deepEqual(iris.setosa.value, { input: [5.1, 3.5, 1.4, 0.2] });
  });
});

describe('deep readiness probe', () => {
  it('re-runs the self-tests: a model that starts answering wrongly turns ?deep=true into 503 with the difference', async () => {
    const harness = await serveYaml(
      `
health: {deep_check_interval_ms: 0}
models:
  - class_path: ./scaler.ts#Scaler
    configuration: {factor_file: ./factor.txt}
`,
      { 'scaler.ts': SCALER, 'factor.txt': '2' },
    );
    try {
      const deep = () => harness.app.inject('/api/health/ready?deep=true');
      assert.equal((await deep()).statusCode, 200);
      writeFileSync(join(harness.dir, 'factor.txt'), '3');
      const failing = await deep();
      assert.equal(failing.statusCode, 503);
      assert.deepEqual(failing.json(), {
        readiness_status: 'REFUSING_TRAFFIC',
        problems: ["model 'scaler': self-test 'unit' answered differently than expected: /y: expected 2, got 3"],
      });
      // The plain probe does not run the self-tests.
      assert.equal((await harness.app.inject('/api/health/ready')).statusCode, 200);
      writeFileSync(join(harness.dir, 'factor.txt'), '2');
      assert.equal((await deep()).statusCode, 200);
    } finally {
      await harness.close();
    }
  });

  it('within deep_check_interval_ms a probe gets the last result instead of running the self-tests again', async () => {
    const harness = await serveYaml(
      `
health: {deep_check_interval_ms: 60000}
models:
  - class_path: ./scaler.ts#Scaler
    configuration: {factor_file: ./factor.txt}
`,
      { 'scaler.ts': SCALER, 'factor.txt': '2' },
    );
    try {
      assert.equal((await harness.app.inject('/api/health/ready?deep=true')).statusCode, 200);
      writeFileSync(join(harness.dir, 'factor.txt'), '3');
      assert.equal((await harness.app.inject('/api/health/ready?deep=true')).statusCode, 200, 'the cached result is served');
      const prediction = await harness.app.inject({ method: 'POST', url: '/api/models/scaler/prediction', payload: { x: 1 } });
      assert.equal(prediction.json().y, 3, 'the model does answer differently now');
    } finally {
      await harness.close();
    }
  });
});

/** Takes `{words: "..."}` in front of the Scaler: x is the number of words. */
const WORD_COUNT = `
export const input_schema = { type: 'object', properties: { words: { type: 'string' } }, required: ['words'], additionalProperties: false };
export function toScaler(input) { return { x: input.words.split(' ').length }; }
`;

describe('self-tests behind decorators', () => {
  it("the class's own examples go to the model past a transform that changes the input; the YAML ones take the decorated path; OpenAPI shows only the decorated ones", async () => {
    const harness = await serveYaml(
      `
health: {deep_check_interval_ms: 0}
models:
  - class_path: ./scaler.ts#Scaler
    configuration: {factor_file: ./factor.txt}
    decorators:
      - class_path: longshore:cache
      - class_path: longshore:transform
        configuration: {module: ./words.ts, input: toScaler, input_schema: input_schema}
    examples:
      - {name: three words, input: {words: a b c}, expected_output: {y: 6}}
`,
      { 'scaler.ts': SCALER, 'words.ts': WORD_COUNT, 'factor.txt': '2' },
    );
    try {
      const metadata = (await harness.app.inject('/api/models/scaler/metadata')).json();
      assert.equal(metadata.status, 'ready', metadata.error);
      const document = (await harness.app.inject('/openapi.json')).json();
      const examples = document.paths['/api/models/scaler/prediction'].post.requestBody.content['application/json'].examples;
      assert.deepEqual(examples, { 'three words': { summary: 'three words', value: { words: 'a b c' } } });
      assert.equal((await harness.app.inject('/api/health/ready?deep=true')).statusCode, 200);
      // The cache holds the YAML example's answer; the deep probe must still reach the model.
      writeFileSync(join(harness.dir, 'factor.txt'), '3');
      const failing = await harness.app.inject('/api/health/ready?deep=true');
      assert.equal(failing.statusCode, 503);
      assert.deepEqual(failing.json().problems, [
        "model 'scaler': self-test 'unit' answered differently than expected: /y: expected 2, got 3",
        "model 'scaler': self-test 'three words' answered differently than expected: /y: expected 6, got 9",
      ]);
    } finally {
      await harness.close();
    }
  });
});
