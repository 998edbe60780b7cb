/**
 * `limits:` sizes (docs/security.md#limits): records per /predictions and /score call, tensor elements per V2 request
 * (checked on the shapes, before allocation, overflow-safe) and the body limit per route group, each through REST and
 * V2 with the body its scope uses.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkElementCount } from '../../src/tensors/v2-message.ts';
import { TooManyElementsError } from '../../src/errors.ts';
import { buildService, irisConfigYaml, type TestService } from '../helpers/service.ts';

const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const FIELDS = Object.keys(IRIS);

/** A V2 request for iris_model with `rows` rows (4 inputs of shape [rows]: 4 × rows elements). */
function v2Rows(rows: number, shape: number[] = [rows]) {
  return { inputs: FIELDS.map((name) => ({ name, datatype: 'FP64', shape, data: Array.from({ length: rows }, () => 1.5) })) };
}

let service: TestService;
before(async () => {
  service = await buildService(`${irisConfigYaml()}limits:\n  predict: {max_records: 3, max_tensor_elements: 8, body_limit_bytes: 2000}\n`);
});
after(() => service.close());

const post = (url: string, payload: unknown) => service.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

test('max_records: a /predictions batch over it is 413 TooManyRecordsError naming the count, the limit and the key', async () => {
  assert.equal((await post('/api/models/iris_model/predictions', [IRIS, IRIS, IRIS])).statusCode, 200);
  const over = await post('/api/models/iris_model/predictions', [IRIS, IRIS, IRIS, IRIS]);
  assert.equal(over.statusCode, 413);
  const body = over.json() as { type: string; message: string; details: unknown[] };
  assert.equal(body.type, 'TooManyRecordsError');
  assert.match(body.message, /4 records, over the limit of 3 \(limits\.predict\.max_records\)/);
  assert.deepEqual(body.details, []);
});

test('max_records: /score counts its examples', async () => {
  const examples = Array.from({ length: 4 }, () => ({ input: IRIS, expected: { label: 'setosa' } }));
  const over = await post('/api/models/iris_model/score', { examples });
  assert.equal(over.statusCode, 413);
  assert.equal((over.json() as { type: string }).type, 'TooManyRecordsError');
});

test('max_tensor_elements: a V2 request over it is 413 with the V2 error body; at the limit it is served', async () => {
  assert.equal((await post('/v2/models/iris_model/infer', v2Rows(2))).statusCode, 200);
  const over = await post('/v2/models/iris_model/infer', v2Rows(3));
  assert.equal(over.statusCode, 413);
  const body = over.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['error']);
  assert.match(body.error as string, /at least 9 tensor elements, over the limit of 8 \(limits\.predict\.max_tensor_elements\)/);
});

test('max_tensor_elements: a huge declared shape is refused on the shape alone, whatever its data', async () => {
  const huge = await post('/v2/models/iris_model/infer', v2Rows(1, [2 ** 53, 2 ** 53]));
  assert.equal(huge.statusCode, 413);
  assert.match((huge.json() as { error: string }).error, /more than 8 tensor elements/);
});

test('checkElementCount: sums over inputs, skips malformed shapes and zero dims, never overflows', () => {
  assert.doesNotThrow(() => checkElementCount([{ shape: [2, 2] }, { shape: [4] }], 8));
  assert.doesNotThrow(() => checkElementCount([{ shape: [2 ** 60, 0] }, { shape: 'x' }, { shape: [-1, 5] }, null], 8));
  assert.throws(() => checkElementCount([{ shape: [2, 2] }, { shape: [5] }], 8), (error: unknown) => error instanceof TooManyElementsError && /at least 9/.test(error.message));
  assert.throws(() => checkElementCount([{ shape: [2 ** 53, 2 ** 53, 2 ** 53] }], 8), /more than 8/);
  assert.doesNotThrow(() => checkElementCount([{ shape: [2 ** 53, 2 ** 53] }], Infinity));
});

test('body_limit_bytes per group: 413 naming limits.predict.body_limit_bytes, REST and V2 bodies', async () => {
  const big = { ...IRIS, padding: 'x'.repeat(3000) };
  const rest = await post('/api/models/iris_model/prediction', big);
  assert.equal(rest.statusCode, 413);
  assert.equal((rest.json() as { type: string }).type, 'PayloadTooLargeError');
  assert.match((rest.json() as { message: string }).message, /2000 bytes \(limits\.predict\.body_limit_bytes\)/);
  const v2 = await post('/v2/models/iris_model/infer', { ...v2Rows(1), padding: 'x'.repeat(3000) });
  assert.equal(v2.statusCode, 413);
  assert.match((v2.json() as { error: string }).error, /limits\.predict\.body_limit_bytes/);
});

test('defaults: 10000 records and 16 Mi elements, body limit from server.body_limit_bytes', async () => {
  const plain = await buildService(`${irisConfigYaml()}server: {body_limit_bytes: 1000}\n`);
  try {
    assert.deepEqual(plain.loaded.config.limits.predict, { max_records: 10_000, max_tensor_elements: 16 * 1024 * 1024 });
    const huge = await plain.app.inject({ method: 'POST', url: '/v2/models/iris_model/infer', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(v2Rows(1, [4096, 4097])) });
    assert.equal(huge.statusCode, 413);
    assert.match((huge.json() as { error: string }).error, /over the limit of 16777216/);
    const rest = await plain.app.inject({ method: 'POST', url: '/api/models/iris_model/prediction', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...IRIS, p: 'x'.repeat(2000) }) });
    assert.equal(rest.statusCode, 413);
    assert.match((rest.json() as { message: string }).message, /1000 bytes \(server\.body_limit_bytes\)/);
  } finally {
    await plain.close();
  }
});
