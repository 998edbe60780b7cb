/**
 * GET /metrics and the HTTP metrics' wiring: whether metrics are on (metrics.enabled, and the environment variable
 * when should_respect_env_var), the route in Prometheus text format, the Node process metrics, and what each
 * response tells the HTTP metrics (src/metrics/http-metrics.ts). The hooks themselves are composed in app.ts with the
 * access log's, so a request pays for one onResponse hook whatever is on.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import type { LongshoreConfig } from '../config/schema.js';
import type { MetricsCatalogue } from '../metrics/catalogue.js';
import { HttpMetrics } from '../metrics/http-metrics.js';

/** The HTTP metrics of each registry: buildApp may run twice over one registry, and a metric registers only once. */
const httpMetricsOf = new WeakMap<Registry, HttpMetrics>();
/** collectDefaultMetrics() registers its metrics into a registry, and may do that only once per registry. */
const withProcessMetrics = new WeakSet<Registry>();
/** Where GET /metrics reads its text instead of the registry itself (a cluster worker: the whole cluster's sum). */
const metricsSources = new WeakMap<Registry, () => Promise<string>>();

/**
 * Makes GET /metrics over `registry` answer with `source()` (in the registry's content type) instead of the registry's
 * own metrics. A cluster worker sets it to ask the primary for every worker's metrics, summed (src/cluster/).
 */
export function setMetricsSource(registry: Registry, source: () => Promise<string>): void {
  metricsSources.set(registry, source);
}

/** metrics.enabled, and (should_respect_env_var) the variable env_var_name set to `true` or `1`, as the instrumentator reads it. */
export function metricsEnabled(config: LongshoreConfig['metrics'], env: NodeJS.ProcessEnv = process.env): boolean {
  if (!config.enabled) return false;
  if (!config.should_respect_env_var) return true;
  const value = (env[config.env_var_name] ?? 'false').toLowerCase();
  return value === 'true' || value === '1';
}

/**
 * The HTTP metrics to feed when metrics are on (bound to the catalogue's registry once, however many apps are built
 * over it), else undefined: no request is measured.
 */
export function httpMetricsFor(catalogue: MetricsCatalogue, config: LongshoreConfig['metrics']): HttpMetrics | undefined {
  if (!metricsEnabled(config)) return undefined;
  const registry = catalogue.registry;
  let http = httpMetricsOf.get(registry);
  if (!http) {
    http = new HttpMetrics(registry, config);
    httpMetricsOf.set(registry, http);
  }
  return http;
}

/**
 * When metrics are on: GET /metrics, the registry's metrics in the Prometheus text format, with the Node process
 * metrics when metrics.process_metrics. When off, nothing is registered: /metrics is a 404 RouteNotFoundError like
 * any unknown route.
 */
export function buildMetricsRoute(app: FastifyInstance, catalogue: MetricsCatalogue, config: LongshoreConfig['metrics']): void {
  if (!metricsEnabled(config)) return;
  const registry = catalogue.registry;
  if (config.process_metrics && !withProcessMetrics.has(registry)) {
    withProcessMetrics.add(registry);
    collectDefaultMetrics({ register: registry });
  }
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Prometheus metrics',
        description:
          'Every metric of this server in the Prometheus text exposition format: HTTP requests (by handler, method and status), model calls, queues and batches, and Node process metrics. See docs/observability.md.',
        response: { 200: { description: 'The metrics (text/plain; version=0.0.4).', type: 'string' } },
      },
    },
    async (_request, reply) => {
      const source = metricsSources.get(registry);
      const text = source ? await source() : await registry.metrics();
      return reply.type(registry.contentType).send(text);
    },
  );
}

/** What one finished (or aborted) response tells the HTTP metrics. */
export function observeHttp(http: HttpMetrics, request: FastifyRequest, route: string | undefined, status: number, ms: number, responseBytes: number): void {
  http.observe(route, request.url, request.method, status, ms / 1000, byteLength(request.headers['content-length']), responseBytes);
}

/** The response's size from its content-length header (set by fastify for every body it serializes); 0 without one. */
export function responseBytes(reply: FastifyReply): number {
  return byteLength(reply.getHeader('content-length'));
}

/** A content-length header's value; 0 when absent or not a number (the instrumentator's rule). */
function byteLength(header: string | number | string[] | undefined): number {
  if (typeof header === 'number') return header;
  if (typeof header !== 'string') return 0;
  const bytes = Number(header);
  return Number.isFinite(bytes) && bytes >= 0 ? bytes : 0;
}
