/**
 * Tracing on: each decorator is a span inside the one around it, with the model's queue and batch inside the
 * innermost; each graph member call is a span under the request, with the member's model named on it and its queue
 * and batch inside.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeConfig } from '../helpers/service.ts';
import { startServerFromFile } from '../helpers/server.ts';
import type { RunningServer } from '../../src/server.ts';
import { fixturePath } from '../decorators/decorator-helpers.ts';
import { member } from '../graphs/graph-harness.ts';
import { startReceiver, type Receiver, type ReceivedSpan } from './otlp-receiver.ts';

const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) => spans.filter((span) => span.parentSpanId === parent.spanId);
const only = (spans: ReceivedSpan[], name: string): ReceivedSpan => {
  const found = spans.filter((span) => span.name === name);
  assert.equal(found.length, 1, `one ${name} in ${spans.map((span) => span.name).join(', ')}`);
  return found[0] as ReceivedSpan;
};

describe('decorator and graph member spans', () => {
  let receiver: Receiver;
  let server: RunningServer;
  before(async () => {
    receiver = await startReceiver();
    const yaml = [
      `tracing: {enabled: true, endpoint: '${receiver.url}', export_interval_ms: 20}`,
      'models:',
      `  - class_path: ${fixturePath('trace.ts', 'TraceModel')}`,
      '    qualified_name: alpha_beta',
      '    decorators:',
      `      - class_path: ${fixturePath('trace.ts', 'Alpha')}`,
      `      - class_path: ${fixturePath('trace.ts', 'Beta')}`,
      `  - class_path: ${member('FixedClassifier')}`,
      '    qualified_name: cat',
      '    configuration: {label: cat}',
      `  - class_path: ${member('FixedClassifier')}`,
      '    qualified_name: dog',
      '    configuration: {label: dog}',
      '  - qualified_name: vote',
      '    graph: {kind: ensemble, members: [cat, dog]}',
    ].join('\n');
    server = await startServerFromFile(writeConfig(yaml));
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  async function traceOf(model: string, body: unknown): Promise<{ root: ReceivedSpan; trace: ReceivedSpan[] }> {
    const response = await fetch(`${server.url}/api/models/${model}/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(response.status, 200, await response.text());
    const [, traceId, spanId] = (response.headers.get('traceparent') ?? '').split('-');
    const spans = await receiver.waitFor((all) => all.some((span) => span.spanId === spanId));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the batch spans end after the answer
    const trace = spans.filter((span) => span.traceId === traceId);
    return { root: trace.find((span) => span.spanId === spanId) as ReceivedSpan, trace };
  }

  it('decorators nest outermost first; the queue and batch are inside the innermost', async () => {
    const { root, trace } = await traceOf('alpha_beta', { trace: [] });
    const alpha = only(childrenOf(trace, root), 'decorator Alpha');
    assert.ok(alpha.attributes['longshore.decorator']);
    const beta = only(childrenOf(trace, alpha), 'decorator Beta');
    assert.deepEqual(childrenOf(trace, beta).map((span) => span.name).sort(), ['batch', 'queue']);
    assert.deepEqual(childrenOf(trace, only(trace, 'batch')).map((span) => span.name), ['model.run']);
  });

  it('graph members are spans under the request, each with its model, queue and batch', async () => {
    const { root, trace } = await traceOf('vote', { x: 1 });
    assert.equal(root.attributes['longshore.model.name'], 'vote');
    const members = childrenOf(trace, root).filter((span) => span.name.startsWith('graph.member'));
    assert.deepEqual(members.map((span) => span.name).sort(), ['graph.member cat', 'graph.member dog']);
    for (const span of members) {
      assert.equal(span.attributes['longshore.model.name'], span.attributes['longshore.graph.member']);
      assert.deepEqual(childrenOf(trace, span).map((child) => child.name).sort(), ['batch', 'queue']);
    }
  });
});
