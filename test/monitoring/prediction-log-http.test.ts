/**
 * The prediction log to an http receiver (a local node:http server): JSON array batches of at most batch_size records
 * with the configured headers; while the receiver is down (closed port, or answering 500) every prediction still
 * succeeds promptly and the records wait in the buffer, arriving once it is back; beyond max_buffer new records are
 * dropped and counted; shutdown waits a bounded time for a receiver that stays down.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { postJson, serve, sleep, waitFor, type RawAnswer, type Served } from '../batching-http/http-harness.ts';
import { assertWellFormed, irisEntry, irisRecord, metricValue, startReceiver, yamlOf, type Receiver } from './monitoring-harness.ts';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
after(() => agent.destroy());

function serveTo(receiver: Receiver, monitoring: Record<string, unknown> = {}): Promise<Served> {
  return serve(
    yamlOf({
      monitoring: {
        enabled: true,
        batch_size: 20,
        flush_interval_ms: 20,
        ...monitoring,
        destination: { type: 'http', url: receiver.url, headers: { authorization: 'Bearer s3cret', 'x-source': 'longshore-test' }, timeout_ms: 2000 },
      },
      models: [irisEntry()],
    }),
  );
}

/** `count` predictions, `concurrency` at a time; every one must answer 200. Returns the answers and the slowest latency. */
async function predictAll(served: Served, count: number): Promise<{ answers: RawAnswer[]; slowestMs: number }> {
  let slowestMs = 0;
  const answers = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const started = performance.now();
      const answer = await postJson(served.url, '/api/models/iris_model/prediction', irisRecord(i), {}, agent);
      slowestMs = Math.max(slowestMs, performance.now() - started);
      assert.equal(answer.status, 200, answer.body.toString('utf8'));
      return answer;
    }),
  );
  return { answers, slowestMs };
}

function assertDeliveredOnce(receiver: Receiver, answers: RawAnswer[]): void {
  const ids = receiver.records().map((record) => record.request_id);
  assert.equal(new Set(ids).size, ids.length, 'no record delivered twice');
  assert.deepEqual(new Set(ids), new Set(answers.map((answer) => answer.headers['x-request-id'])));
}

describe('prediction log to an http receiver', () => {
  it('POSTs JSON array batches of at most batch_size records with the configured headers', async () => {
    const receiver = await startReceiver();
    const served = await serveTo(receiver);
    try {
      const { answers } = await predictAll(served, 200);
      await waitFor(() => receiver.records().length >= 200, 10_000, 'every record at the receiver');
      assertDeliveredOnce(receiver, answers);
      for (const batch of receiver.batches) {
        assert.ok(batch.records.length >= 1 && batch.records.length <= 20, `batch of ${batch.records.length}`);
        assert.equal(batch.headers['content-type'], 'application/json');
        assert.equal(batch.headers.authorization, 'Bearer s3cret');
        assert.equal(batch.headers['x-source'], 'longshore-test');
        for (const record of batch.records) assertWellFormed(record);
      }
      // The receiver has the records before the sender has read its 2xx answers and counted them.
      const written = () => metricValue(served.service, 'longshore_prediction_log_records_total', { model: 'iris_model', destination: 'http' });
      await waitFor(async () => (await written()) >= 200, 5000, 'every record counted as written');
      assert.equal(await written(), 200);
    } finally {
      await served.close();
      await receiver.down();
    }
  });

  it('keeps records while the receiver is down (port closed) without slowing predictions, and delivers them when it is back', async () => {
    const receiver = await startReceiver({ startDown: true });
    const served = await serveTo(receiver);
    try {
      const started = performance.now();
      const { answers, slowestMs } = await predictAll(served, 300);
      const elapsedMs = performance.now() - started;
      assert.ok(slowestMs < 1000 && elapsedMs < 3000, `predictions took ${elapsedMs.toFixed(0)} ms (slowest ${slowestMs.toFixed(0)} ms)`);
      await waitFor(async () => (await metricValue(served.service, 'longshore_prediction_log_write_failures_total')) >= 2, 5000, 'failed writes');
      assert.equal(receiver.records().length, 0);
      assert.equal(await metricValue(served.service, 'longshore_prediction_log_buffered_records', { model: 'iris_model' }), 300);
      await receiver.up();
      await waitFor(() => receiver.records().length >= 300, 20_000, 'the buffered records at the receiver');
      await sleep(100);
      assertDeliveredOnce(receiver, answers);
      for (const batch of receiver.batches) assert.ok(batch.records.length <= 20);
      assert.equal(await metricValue(served.service, 'longshore_prediction_log_dropped_total'), 0);
      assert.equal(await metricValue(served.service, 'longshore_prediction_log_buffered_records'), 0);
    } finally {
      await served.close();
      await receiver.down();
    }
  });

  it('retries batches the receiver answers with 500, delivering each record once when it recovers', async () => {
    const receiver = await startReceiver();
    receiver.status = 500;
    const served = await serveTo(receiver);
    try {
      const { answers, slowestMs } = await predictAll(served, 100);
      assert.ok(slowestMs < 1000, `slowest prediction ${slowestMs.toFixed(0)} ms`);
      await waitFor(() => receiver.attempts >= 3, 5000, 'retried POSTs');
      assert.equal(receiver.records().length, 0);
      receiver.status = 200;
      await waitFor(() => receiver.records().length >= 100, 20_000, 'the records after recovery');
      await sleep(100);
      assertDeliveredOnce(receiver, answers);
      assert.ok((await metricValue(served.service, 'longshore_prediction_log_write_failures_total', { destination: 'http' })) >= 3);
    } finally {
      await served.close();
      await receiver.down();
    }
  });

  it('drops and counts the records beyond max_buffer while the receiver fails, and loses nothing else', async () => {
    const receiver = await startReceiver();
    receiver.status = 503;
    const served = await serveTo(receiver, { max_buffer: 20, batch_size: 10 });
    try {
      const { answers } = await predictAll(served, 100);
      assert.equal(answers.length, 100);
      assert.equal(await metricValue(served.service, 'longshore_prediction_log_dropped_total', { model: 'iris_model', reason: 'buffer_full' }), 80);
      receiver.status = 200;
      await waitFor(() => receiver.records().length >= 20, 20_000, 'the buffered records after recovery');
      await sleep(100);
      const delivered = receiver.records();
      assert.equal(delivered.length, 20);
      assert.equal(new Set(delivered.map((record) => record.request_id)).size, 20);
      assert.equal(await metricValue(served.service, 'longshore_prediction_log_records_total', { model: 'iris_model' }), 20);
      assert.equal(await metricValue(served.service, 'longshore_prediction_log_dropped_total'), 80, 'dropped for no other reason');
    } finally {
      await served.close();
      await receiver.down();
    }
  });

  it('flushes at shutdown, and waits only a bounded time for a receiver that stays down', async () => {
    const up = await startReceiver();
    const served = await serveTo(up, { batch_size: 10_000, flush_interval_ms: 600_000 });
    const { answers } = await predictAll(served, 25);
    assert.equal(up.records().length, 0);
    await served.close();
    assertDeliveredOnce(up, answers);
    await up.down();

    const down = await startReceiver({ startDown: true });
    const stuck = await serveTo(down, { batch_size: 10_000, flush_interval_ms: 600_000 });
    await predictAll(stuck, 10);
    const started = performance.now();
    await stuck.close();
    const closeMs = performance.now() - started;
    assert.ok(closeMs > 3000 && closeMs < 9000, `close took ${closeMs.toFixed(0)} ms`);
    assert.equal(await metricValue(stuck.service, 'longshore_prediction_log_dropped_total', { reason: 'shutdown' }), 10);
  });
});
