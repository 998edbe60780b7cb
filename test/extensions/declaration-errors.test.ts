/**
 * Error paths of the extension mechanisms that a user's code can reach: a decorator that hands the model a record its
 * own schema refuses (500 naming the decorators, the model not called), and operations declared wrongly (the model
 * fails to load with a message naming the operation and what to fix).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';

const MODELS = `
const schema = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] };
const answer = { type: 'object', properties: { y: { type: 'number' } }, required: ['y'] };
export let calls = 0;
class Base {
  display_name = 'Base';
  description = 'y = x';
  version = '1';
  input_schema = schema;
  output_schema = answer;
  predict(input) { calls++; return { y: input.x }; }
}
export class Counted extends Base { qualified_name = 'counted'; }
export class BadOperationName extends Base {
  qualified_name = 'bad_name';
  operations = { 'top features': { input_schema: {}, output_schema: {}, run: () => ({}) } };
}
export class OperationWithoutRun extends Base {
  qualified_name = 'no_run';
  operations = { summary: { input_schema: {}, output_schema: {} } };
}
export class OperationWithBadSchema extends Base {
  qualified_name = 'bad_schema';
  operations = { summary: { input_schema: { type: 'nonsense' }, output_schema: {}, run: () => ({}) } };
}

/** Turns x into a string: the model's own schema wants a number. */
export class Stringify {
  predict(input, next) { return next({ x: String(input.x) }); }
}
/** Answers y as a string, past the model. */
export class BadAnswer {
  async predict(input, next) { const output = await next(input); return { y: String(output.y) }; }
}
`;

describe('errors of decorators and operations that user code causes', () => {
  let harness: Harness;

  before(async () => {
    harness = await serveYaml(
      `
models:
  - class_path: ./models.ts#Counted
    decorators: [{class_path: ./models.ts#Stringify}]
  - class_path: ./models.ts#Counted
    qualified_name: bad_answer
    decorators: [{class_path: ./models.ts#BadAnswer}]
  - {class_path: ./models.ts#BadOperationName, required: false}
  - {class_path: ./models.ts#OperationWithoutRun, required: false}
  - {class_path: ./models.ts#OperationWithBadSchema, required: false}
`,
      { 'models.ts': MODELS },
    );
  });
  after(() => harness.close());

  it('a decorator that hands the model a record its own schema refuses is a 500 naming the decorators; the model is not called', async () => {
    // The same module instance the registry imported, so its call counter is the model's.
    const models = (await import(pathToFileURL(join(harness.dir, 'models.ts')).href)) as { calls: number };
    const before = models.calls;
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/counted/prediction', payload: { x: 1 } });
    assert.equal(response.statusCode, 500);
    assert.equal(response.json().type, 'InferenceError');
    assert.match(response.json().message, /^the decorators of model 'counted' passed the model an input that does not match the model's own schema: \/x must be number/);
    assert.equal(models.calls, before, 'the model was not called');
    await harness.app.inject({ method: 'POST', url: '/api/models/bad_answer/prediction', payload: { x: 1 } });
    assert.equal(models.calls, before + 1, 'the counter does count calls that reach the model');
  });

  it('a decorator whose answer breaks the schema callers see is a 500 naming the output field', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/api/models/bad_answer/prediction', payload: { x: 1 } });
    assert.equal(response.statusCode, 500);
    assert.match(response.json().message, /^model 'bad_answer' returned output that does not match its output schema: \/y must be number/);
  });

  it('operations declared wrongly fail the model, naming the operation and what to fix', async () => {
    const models = (await harness.app.inject('/api/models')).json().models as { qualified_name: string; status: string; error?: string }[];
    const errorOf = (name: string) => models.find((model) => model.qualified_name === name);
    assert.equal(errorOf('bad_name')?.status, 'failed');
    assert.equal(errorOf('bad_name')?.error, "operation 'top features' of model 'bad_name' needs a name of letters, digits, '_' or '-' (it becomes a URL)");
    assert.equal(errorOf('no_run')?.error, "operation 'summary' of model 'no_run' has no run() function");
    assert.match(errorOf('bad_schema')?.error ?? '', /^input_schema of operation 'summary' of model 'bad_schema' is not a valid JSON Schema: /);
  });
});
