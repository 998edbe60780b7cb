/**
 * `limits:` (docs/security.md#limits): limits per route group, the groups being the scopes API keys have (auth.ts's
 * `routeScope` classifies every route; the health probes are in no group and never limited). Set on each route as it is
 * declared, so a request pays nothing it does not use:
 * - `body_limit_bytes`: the route's fastify `bodyLimit` (413 PayloadTooLargeError naming the key);
 * - `max_records`: a preHandler on POST /api/models/{name}/predictions, /score and /v1/embeddings (its `input`) (413
 *   TooManyRecordsError);
 * - `max_tensor_elements`: read by the V2 routes' decoder (`maxTensorElements`), checked on the shapes before any tensor is
 *   allocated (tensors/v2-message.ts, 413 TooManyElementsError);
 * - `rate_limit`: @fastify/rate-limit, imported and registered only when some group has one (429 RateLimitedError).
 */
import type { FastifyInstance, FastifyRequest, preHandlerHookHandler, RouteOptions } from 'fastify';
import { AUTH_SCOPES, type LimitGroup, type LimitsConfig, type RateLimitConfig } from '../config/schema.js';
import { RateLimitedError, TooManyRecordsError } from '../errors.js';
import type { MetricsCatalogue } from '../metrics/catalogue.js';
import { routeScope } from './auth.js';

/** A route's limits, in its fastify route config (read per request without a lookup). */
export interface RouteLimits {
  readonly group: LimitGroup;
  /** The key that sets the route's body limit, for the 413's message. */
  readonly bodyLimitKey: string;
  readonly maxTensorElements: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    longshoreLimits?: RouteLimits;
  }
}

/** The routes whose body is a batch of records, and where the records are in it. */
const examplesOf = (body: unknown) => (typeof body === 'object' && body !== null ? (body as { examples?: unknown }).examples : undefined);
const inputOf = (body: unknown) => (typeof body === 'object' && body !== null ? (body as { input?: unknown }).input : undefined);
const RECORD_ROUTES: ReadonlyMap<string, (body: unknown) => unknown> = new Map(
  ['/api/models/:name', '/api/models/:name/versions/:version'].flatMap((prefix): [string, (body: unknown) => unknown][] => [
    [`${prefix}/predictions`, (body: unknown) => body],
    [`${prefix}/score`, examplesOf],
  ]).concat([['/v1/embeddings', inputOf]]),
);

/** The elements a V2 request may hold (`limits.predict.max_tensor_elements`); no limit outside a configured app. */
export function maxTensorElements(request: FastifyRequest): number {
  return request.routeOptions.config.longshoreLimits?.maxTensorElements ?? Infinity;
}

/** The groups with a rate limit. */
export function rateLimitedGroups(limits: LimitsConfig): Map<LimitGroup, RateLimitConfig> {
  const groups = new Map<LimitGroup, RateLimitConfig>();
  for (const group of AUTH_SCOPES) {
    const rate = limits[group].rate_limit;
    if (rate !== undefined) groups.set(group, rate);
  }
  return groups;
}

function recordsCheck(max: number, recordsOf: (body: unknown) => unknown): preHandlerHookHandler {
  return (request, _reply, done) => {
    const records = recordsOf(request.body);
    // Not an array: the dataplane's own validation says what is wrong with the body.
    if (Array.isArray(records) && records.length > max) {
      done(new TooManyRecordsError(`the body holds ${records.length} records, over the limit of ${max} (limits.predict.max_records); send smaller batches`));
      return;
    }
    done();
  };
}

function addHook(route: RouteOptions, name: 'preHandler', hook: preHandlerHookHandler): void {
  const existing = route[name];
  route[name] = existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
}

/**
 * Installs the limits. Call it before any route is declared, and before installRequestBodyChecks (whose hook reads the
 * route's body limit).
 */
export async function installLimits(app: FastifyInstance, limits: LimitsConfig, metrics: MetricsCatalogue): Promise<void> {
  app.addHook('onRoute', (route) => {
    const scope = routeScope(route.url);
    if (scope === 'health') return;
    const group = scope === 'docs' ? 'read' : scope;
    const bodyLimit = limits[group].body_limit_bytes;
    if (bodyLimit !== undefined && route.bodyLimit === undefined) route.bodyLimit = bodyLimit;
    const routeLimits: RouteLimits = {
      group,
      bodyLimitKey: bodyLimit === undefined ? 'server.body_limit_bytes' : `limits.${group}.body_limit_bytes`,
      maxTensorElements: limits.predict.max_tensor_elements,
    };
    route.config = { ...route.config, longshoreLimits: routeLimits };
    const recordsOf = RECORD_ROUTES.get(route.url);
    if (recordsOf !== undefined) addHook(route, 'preHandler', recordsCheck(limits.predict.max_records, recordsOf));
  });
  const rated = rateLimitedGroups(limits);
  if (rated.size > 0) await installRateLimits(app, rated, metrics);
}

/** The group of a request whose route has a rate limit, else undefined (health probes, unrouted, groups without one). */
function ratedGroup(request: FastifyRequest, rated: ReadonlyMap<LimitGroup, RateLimitConfig>): LimitGroup | undefined {
  const group = request.routeOptions.config.longshoreLimits?.group;
  return group !== undefined && rated.has(group) ? group : undefined;
}

async function installRateLimits(app: FastifyInstance, rated: ReadonlyMap<LimitGroup, RateLimitConfig>, metrics: MetricsCatalogue): Promise<void> {
  // Imported only when configured: a server without rate limits does not load the plugin.
  const { default: fastifyRateLimit } = await import('@fastify/rate-limit');
  const rate = (request: FastifyRequest): RateLimitConfig => rated.get(ratedGroup(request, rated) as LimitGroup) as RateLimitConfig;
  await app.register(fastifyRateLimit, {
    // One hook per route, run after the root onRequest hooks (the API key check, so the key is known and a refused key
    // spends nothing), before the body is read.
    global: true,
    hook: 'onRequest',
    // One bucket per group and client: the key's id (never the key) with auth:, else the client's IP.
    keyGenerator: (request) => `${ratedGroup(request, rated) ?? '-'}|${request.longshoreKeyId ?? `ip ${request.ip}`}`,
    allowList: (request) => ratedGroup(request, rated) === undefined,
    max: (request) => rate(request).max,
    timeWindow: (request) => rate(request).window_ms,
    onExceeded: (request) => metrics.rateLimited.inc({ group: ratedGroup(request, rated) }),
    // Thrown by the plugin's hook, so each protocol's error handler writes it in its body (REST or V2). Retry-After and
    // the x-ratelimit-* headers are set by the plugin.
    errorResponseBuilder: (request, context) => {
      const group = ratedGroup(request, rated) as LimitGroup;
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new RateLimitedError(
        `rate limit reached: ${context.max} requests per ${rate(request).window_ms} ms for the ${group} routes (limits.${group}.rate_limit); retry in ${seconds} s`,
        { retryAfterSeconds: seconds },
      );
    },
  });
}
