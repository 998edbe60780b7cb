/**
 * model/validation.ts: compiled validators report every failing field as {path, message} with the path pointing at
 * the field itself, never coerce or fill defaults, and keep models' schemas apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSchemaCompiler, summarize } from '../../src/model/validation.ts';

const Person = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    age: { type: 'integer', minimum: 0 },
    email: { type: 'string', format: 'email' },
    role: { enum: ['admin', 'user'] },
    address: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
  required: ['name', 'age'],
  additionalProperties: false,
};

describe('createSchemaCompiler', () => {
  const validate = createSchemaCompiler()(Person);

  it('returns undefined for a valid value', () => {
    assert.equal(validate({ name: 'Ada', age: 36, email: 'ada@example.com', role: 'admin', address: { city: 'London' } }), undefined);
  });

  it('reports a missing field at the path of the field', () => {
    assert.deepEqual(validate({ name: 'Ada' }), [{ path: '/age', message: 'is required' }]);
  });

  it('reports an extra field at the path of the field', () => {
    assert.deepEqual(validate({ name: 'Ada', age: 1, nickname: 'A' }), [{ path: '/nickname', message: 'is not an allowed field' }]);
  });

  it('reports a field of the wrong type', () => {
    assert.deepEqual(validate({ name: 'Ada', age: 'old' }), [{ path: '/age', message: 'must be integer' }]);
  });

  it('reports every failing field at once', () => {
    const problems = validate({ age: -1, role: 'root', extra: true, address: {} }) ?? [];
    assert.deepEqual(
      [...problems].sort((a, b) => a.path.localeCompare(b.path)),
      [
        { path: '/address/city', message: 'is required' },
        { path: '/age', message: 'must be >= 0' },
        { path: '/extra', message: 'is not an allowed field' },
        { path: '/name', message: 'is required' },
        { path: '/role', message: 'must be one of "admin", "user"' },
      ],
    );
  });

  it('reports a value of the wrong type at the root as "/"', () => {
    assert.deepEqual(validate('Ada'), [{ path: '/', message: 'must be object' }]);
    assert.deepEqual(validate(null), [{ path: '/', message: 'must be object' }]);
  });

  it('checks string formats', () => {
    assert.deepEqual(validate({ name: 'Ada', age: 1, email: 'not an email' }), [{ path: '/email', message: 'must match format "email"' }]);
  });

  it('does not coerce types', () => {
    assert.deepEqual(validate({ name: 'Ada', age: '36' }), [{ path: '/age', message: 'must be integer' }]);
  });

  it('does not fill defaults into the value it checks', () => {
    const check = createSchemaCompiler()({ type: 'object', properties: { n: { type: 'number', default: 1 } } });
    const value = {};
    assert.equal(check(value), undefined);
    assert.deepEqual(value, {});
  });

  it('escapes "/" and "~" in field names of the path', () => {
    const check = createSchemaCompiler()({ type: 'object', required: ['a/b', 'c~d'] });
    assert.deepEqual(check({}), [
      { path: '/a~1b', message: 'is required' },
      { path: '/c~0d', message: 'is required' },
    ]);
  });

  it('reports nested array items by index', () => {
    const check = createSchemaCompiler()({ type: 'array', items: { type: 'number' } });
    assert.deepEqual(check([1, 'two', 3]), [{ path: '/1', message: 'must be number' }]);
  });

  it("appends the failing field's description as what was expected", () => {
    const check = createSchemaCompiler()({
      type: 'object',
      properties: { length: { type: 'number', description: 'Sepal length in centimetres.' } },
    });
    assert.deepEqual(check({ length: 'long' }), [{ path: '/length', message: 'must be number; expected Sepal length in centimetres.' }]);
  });

  it('gives each compiler its own schema namespace, so two models may use the same $id', () => {
    const first = createSchemaCompiler()({ $id: 'record', type: 'object', required: ['a'] });
    const second = createSchemaCompiler()({ $id: 'record', type: 'object', required: ['b'] });
    assert.deepEqual(first({ b: 1 }), [{ path: '/a', message: 'is required' }]);
    assert.deepEqual(second({ a: 1 }), [{ path: '/b', message: 'is required' }]);
  });

  it('validates with draft 2020-12 keywords when the schema declares that draft', () => {
    const check = createSchemaCompiler()({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'number' }],
      items: false,
    });
    assert.equal(check(['a', 1]), undefined);
    assert.deepEqual(check([1, 1])?.map((d) => d.path), ['/0']);
    assert.equal(check(['a', 1, true])?.length, 1, 'items: false forbids a third item');
  });

  it('validates with draft 2019-09 keywords when the schema declares that draft', () => {
    const check = createSchemaCompiler()({
      $schema: 'https://json-schema.org/draft/2019-09/schema',
      type: 'object',
      properties: { a: { type: 'number' } },
      unevaluatedProperties: false,
    });
    assert.equal(check({ a: 1 }), undefined);
    assert.ok(check({ a: 1, b: 2 }), 'an unevaluated property is rejected');
  });

  it('lets one compiler handle schemas of different drafts side by side', () => {
    const compile = createSchemaCompiler();
    const draft7 = compile({ type: 'object', required: ['a'] });
    const draft2020 = compile({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['b'] });
    assert.deepEqual(draft7({}), [{ path: '/a', message: 'is required' }]);
    assert.deepEqual(draft2020({}), [{ path: '/b', message: 'is required' }]);
  });

  it('throws on a schema that is not valid JSON Schema', () => {
    assert.throws(() => createSchemaCompiler()({ type: 'numeric' }));
  });
});

describe('summarize', () => {
  it('joins details as "path message" separated by semicolons', () => {
    assert.equal(
      summarize([
        { path: '/a', message: 'is required' },
        { path: '/b', message: 'must be number' },
      ]),
      '/a is required; /b must be number',
    );
  });

  it('shows at most `limit` details and counts the rest', () => {
    const details = Array.from({ length: 8 }, (_, i) => ({ path: `/f${i}`, message: 'is required' }));
    assert.equal(summarize(details), '/f0 is required; /f1 is required; /f2 is required; /f3 is required; /f4 is required; and 3 more');
    assert.equal(summarize(details, 2), '/f0 is required; /f1 is required; and 6 more');
  });

  it('is empty for no details', () => {
    assert.equal(summarize([]), '');
  });
});
