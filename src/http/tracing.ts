/**
 * Tracing of HTTP requests (docs/tracing.md), installed only when `tracing.enabled` is true: one SERVER span per
 * request, named by its route template (`POST /api/models/{name}/prediction`), continuing the caller's W3C trace
 * context (`traceparent`, `tracestate`) and answering with the server span's `traceparent`; the request's log lines
 * carry `trace_id` and `span_id`. The span is `request.longshoreSpan`, which callOptions() puts in the CallContext.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { ATTR, type TraceSpan, type Tracing } from '../tracing/span.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span while tracing is on (null before it starts; undefined with tracing off). */
    longshoreSpan: TraceSpan | null;
  }
}

/** Client closed the request before the answer (nginx's 499), as the span's status code. */
const CLIENT_CLOSED = 499;

const headerOf = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};
const setHeader = (reply: FastifyReply, name: string, value: string): void => void reply.header(name, value);

/** `/api/models/:name/prediction` → `/api/models/{name}/prediction`, once per template. */
const templates = new Map<string, string>();
function routeOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let route = templates.get(url);
  if (route === undefined) {
    route = url.replace(/:(\w+)/g, '{$1}');
    templates.set(url, route);
  }
  return route;
}

export function installTracing(app: FastifyInstance, tracing: Tracing, scheme: 'http' | 'https'): void {
  app.decorateRequest('longshoreSpan', null);
  app.addHook('onRequest', (request, reply, done) => {
    const route = routeOf(request.routeOptions.url);
    const method = request.method;
    const query = request.url.indexOf('?');
    const span = tracing.startRequestSpan({
      // Semantic conventions: `{method} {route}`, only `{method}` when no route matched (a URL is not a span name).
      name: route === undefined ? method : `${method} ${route}`,
      carrier: request.headers,
      getter: headerOf,
      attributes: {
        'http.request.method': method,
        'http.route': route,
        'url.path': query < 0 ? request.url : request.url.slice(0, query),
        'url.scheme': scheme,
        'network.protocol.version': request.raw.httpVersion,
        'client.address': request.ip,
        'user_agent.original': headerOf(request.headers, 'user-agent'),
        [ATTR.requestId]: request.id,
      },
    });
    request.longshoreSpan = span;
    tracing.inject(span, reply, setHeader);
    request.log = request.log.child({ trace_id: span.traceId, span_id: span.spanId });
    // 'close' comes once per response, after one sent in full too; before the end means the client left.
    const response = reply.raw;
    response.once('close', () => endRequestSpan(span, request, response.writableFinished ? reply.statusCode : CLIENT_CLOSED));
    done();
  });
}

function endRequestSpan(span: TraceSpan, request: FastifyRequest, status: number): void {
  if (span.recording) {
    span.setAttribute('http.response.status_code', status);
    // A server span is failed by a 5xx only (semantic conventions: a 4xx is the client's).
    if (status >= 500) span.fail(request.longshoreError ?? new Error(`HTTP ${status}`));
    else if (status === CLIENT_CLOSED) span.setAttribute('error.type', 'RequestCancelledError');
  }
  span.end();
}
