/**
 * A step of a traced call as a child span: started, failed when the step throws or rejects, ended when it settles.
 * Callers reach these only when they hold a span (tracing on), so a server with tracing off never calls them.
 */
import type { TraceAttributes, TraceSpan } from './span.js';

/** Runs `step` (synchronous) in a child span of `parent`. */
export function traceStep<T>(parent: TraceSpan, name: string, step: () => T, attributes?: TraceAttributes): T {
  const span = parent.child(name, attributes);
  try {
    return step();
  } catch (error) {
    span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}

/** Runs `step` (asynchronous) in a child span of `parent`; the step gets the span to parent its own steps. */
export async function traceAsync<T>(parent: TraceSpan, name: string, step: (span: TraceSpan) => Promise<T>, attributes?: TraceAttributes): Promise<T> {
  const span = parent.child(name, attributes);
  try {
    return await step(span);
  } catch (error) {
    span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}
