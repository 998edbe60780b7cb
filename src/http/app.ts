/**
 * buildApp: the fastify application (routes, docs, error handling, request ids) over a dataplane. It never listens;
 * server.ts does, and tests use inject() or listen on 127.0.0.1:0.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { LongshoreConfig } from '../config/schema.js';
import type { Dataplane } from '../dataplane/dataplane.js';
import type { MetricsCatalogue } from '../metrics/catalogue.js';
import { installAdmission } from './admission.js';
import { installAuth, withSecurity } from './auth.js';
import { installCors } from './cors.js';
import { installLimits } from './limits.js';
import type { TlsMaterial } from './tls.js';
import type { Tracing } from '../tracing/span.js';
import { installTracing } from './tracing.js';
import { installUtf8JsonParser } from './media-types.js';
import { installRequestBodyChecks } from './request-body.js';
import { CLIENT_CLOSED_STATUS, writeAccessLine } from './access-log.js';
import { answerExpectationFailed, createClientErrorHandler, requestId } from './client-errors.js';
import { MalformedRequestError } from '../errors.js';
import { answeredOnSocket, installErrorHandling, sendError, setRequestIdOf, toCatalogueError } from './error-handler.js';
import { buildMetricsRoute, httpMetricsFor, metricsEnabled, observeHttp, responseBytes } from './metrics.js';
import { createOpenApiDocumentSource, ERROR_SCHEMA_ID, type OpenApiDocument } from './openapi.js';
import { buildHealthRoutes } from './routes/health.js';
import { isWarmupRequest } from './route-warmup.js';
import { buildOpenAiRoutes } from './routes/openai.js';
import { buildRestRoutes } from './routes/rest.js';
import { buildV2Routes } from './routes/v2.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The OpenAPI document the server serves at /openapi.json (model paths included). */
    openapiDocument(): OpenApiDocument;
  }
}

export interface BuildAppOptions {
  readonly config: LongshoreConfig;
  /** The operations the routes adapt (service.ts assembles it). */
  readonly dataplane: Dataplane;
  readonly metrics: MetricsCatalogue;
  readonly logger: Logger;
  /** Serve HTTPS with these (server.ts reads them from `tls:`, tls.ts); absent: plain HTTP. */
  readonly tls?: TlsMaterial;
  /** Trace requests with this (server.ts loads it when `tracing.enabled`, tracing/load.ts); absent: no tracing. */
  readonly tracing?: Tracing;
}

/**
 * How often Node checks connections against the headers and request timeouts (its default, 30 s, would let a 10 s
 * headers timeout run to 40 s): a quarter of the shorter timeout, between 25 ms and 1 s.
 */
function connectionsCheckingInterval(headersTimeoutMs: number, requestTimeoutMs: number): number {
  const timeouts = [headersTimeoutMs, requestTimeoutMs].filter((ms) => ms > 0);
  return timeouts.length === 0 ? 30_000 : Math.max(25, Math.min(1000, Math.floor(Math.min(...timeouts) / 4)));
}

export async function buildApp({ config, dataplane, metrics, logger, tls, tracing }: BuildAppOptions): Promise<FastifyInstance> {
  const { headers_timeout_ms: headersTimeoutMs, request_timeout_ms: requestTimeoutMs, keep_alive_timeout_ms: keepAliveTimeoutMs } = config.server;
  const bodyLimit = config.server.body_limit_bytes;
  const serverOptions = { connectionsCheckingInterval: connectionsCheckingInterval(headersTimeoutMs, requestTimeoutMs), requireHostHeader: false };
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // fastify's two default log lines per request cost throughput; errors are logged by the error handler instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit,
    genReqId: requestId,
    // Slow clients (docs/configuration.md, server:): the request must be in within request_timeout_ms; an idle
    // keep-alive connection closes after keep_alive_timeout_ms. No socket inactivity timeout (connectionTimeout): while
    // a model computes nothing moves on the socket, and a slow model call is bounded by its own timeout_ms instead.
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    connectionTimeout: 0,
    // With `tls:`, fastify hands only `https` to https.createServer (never `http`), so the server options go there too.
    ...(tls === undefined ? { http: serverOptions } : { https: { ...serverOptions, ...tls } }),
    // Errors before routing (Node's parser, the timeouts) and fastify's own URL errors, in longshore's format.
    clientErrorHandler: createClientErrorHandler({ headersTimeoutMs, requestTimeoutMs }, logger as FastifyBaseLogger),
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      sendError(request, reply, toCatalogueError(error, bodyLimit));
    },
    // fastify would build a pino child logger per request just to bind its id; the few request-scoped log lines
    // (5xx in the error handler) carry `request_id` explicitly instead, so no per-request logger is made.
    childLoggerFactory: (parent) => parent,
    requestIdHeader: false,
    // Requests that reach a closing server are still served (the models stay loaded until close completes).
    return503OnClosing: false,
  });
  // Set on the server, not through fastify: fastify reads 0 as "its default", and Node's constructor refuses a
  // headersTimeout above requestTimeout (the request timeout, which includes the headers, then simply comes first).
  app.server.headersTimeout = headersTimeoutMs;
  app.server.requestTimeout = requestTimeoutMs;
  app.server.keepAliveTimeout = keepAliveTimeoutMs;
  // `Expect:` other than 100-continue: Node would answer an empty 417 on its own.
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => answerExpectationFailed(request, response));
  const accessLog = config.logging.access_log;
  const http = httpMetricsFor(metrics, config.metrics);
  // Callback style, not async: these run on every request and a promise per request is measurable. The route template
  // is read once per hook (fastify builds routeOptions anew on each read).
  const observing = http !== undefined || accessLog;
  const inProgress = http?.inProgress ? http : undefined;
  const observe = (request: FastifyRequest, reply: FastifyReply, status: number, aborted: boolean): void => {
    if (request.longshoreObserved || isWarmupRequest(request.id)) return;
    request.longshoreObserved = true;
    const route = request.routeOptions.url;
    const ms = reply.elapsedTime;
    if (http) observeHttp(http, request, route, status, ms, aborted ? 0 : responseBytes(reply));
    // request.log is the server's logger, or with tracing on its child carrying trace_id and span_id (tracing.ts).
    if (accessLog) writeAccessLine(request.log as Logger, request, route, status, ms, aborted);
  };
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    setRequestIdOf(reply.raw, request.id);
    // Shutting down: the answer closes its connection, so a keep-alive client opens a new one (to another replica)
    // instead of sending its next request on a connection about to close.
    if (dataplane.draining) reply.header('connection', 'close');
    // HTTP/1.1 requires Host (RFC 9112 3.2); Node's own check would answer an empty 400, so it is off and made here.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      return sendError(request, reply, new MalformedRequestError('the request has no Host header; HTTP/1.1 requires one'));
    }
    if (observing) {
      const gauge = inProgress?.inProgressFor(request.routeOptions.url, request.url, request.method);
      if (gauge) gauge.value++;
      // 'close' comes once per response, also after one sent in full. A close before the end means the client left:
      // fastify runs no onResponse hook then, so the request is counted and logged here, as 499 (nginx's status for a
      // client that closed the request). A response that is already gone never reaches onRequest's listener.
      const response = reply.raw;
      response.once('close', () => {
        if (gauge) gauge.value--;
        if (response.writableFinished) return;
        // Answered on the socket by the client error handler (a 408: the body did not arrive in time), else the client left.
        const clientError = answeredOnSocket(response);
        if (clientError === undefined) return observe(request, reply, CLIENT_CLOSED_STATUS, true);
        request.longshoreError = clientError;
        observe(request, reply, clientError.status, false);
      });
    }
    done();
  });
  // The request's span before every other hook, so a refusal (CORS, API keys, limits) is traced too.
  if (tracing !== undefined) installTracing(app, tracing, tls === undefined ? 'http' : 'https');
  // CORS before every route, so its hook answers preflights for all of them, and before the API keys, so a refusal
  // carries the CORS headers a page needs to read it (docs/cors-and-tls.md); nothing when absent.
  await installCors(app, config.cors);
  // API keys (docs/security.md): after the hooks above (the refusal carries x-request-id), before every other hook and
  // every route. Without `auth:` nothing is installed.
  const auth = config.auth;
  const templates = new Set<string>();
  if (auth !== undefined) {
    installAuth(app, auth);
    app.addHook('onRoute', (route) => void templates.add(route.url));
  }
  // Limits per route group (docs/security.md#limits): after the API keys (a rate limit buckets by key), before the body
  // checks (which read each route's body limit) and every route. The rate-limit plugin is loaded only when configured.
  await installLimits(app, config.limits, metrics);
  if (observing) {
    // One hook for the HTTP metrics and the access log, whichever are on.
    app.addHook('onResponse', (request, reply, done) => {
      observe(request, reply, reply.statusCode, false);
      done();
    });
  }
  installErrorHandling(app, bodyLimit, { accessLog });
  // Every body longshore takes is JSON; fastify's default text/plain parser would hand a model a bare string.
  app.removeContentTypeParser('text/plain');
  // JSON must be UTF-8 (charset and bytes); bodies may come compressed (Content-Encoding). See media-types.ts.
  installUtf8JsonParser(app, config.server.timing_headers);
  installRequestBodyChecks(app, bodyLimit);

  app.addSchema({
    $id: ERROR_SCHEMA_ID,
    type: 'object',
    description: 'Every REST error: a stable type code, a message that says what to fix, and one detail per problem.',
    properties: {
      type: { type: 'string', description: 'Stable error code, listed in docs/errors.md.' },
      message: { type: 'string' },
      details: {
        type: 'array',
        items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] },
      },
    },
    required: ['type', 'message', 'details'],
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: config.service_title, description: config.description, version: config.version },
      tags: [
        { name: 'health', description: 'Probes for load balancers and orchestrators.' },
        { name: 'models', description: 'The models this service hosts.' },
        { name: 'open inference protocol', description: 'The Open Inference Protocol (KServe V2) REST API, with the binary tensor data extension.' },
        { name: 'openai', description: "OpenAI-compatible routes (docs/openai.md): an OpenAI client's baseURL is http://host:port/v1." },
        ...(metricsEnabled(config.metrics) ? [{ name: 'monitoring', description: 'Prometheus metrics (docs/observability.md).' }] : []),
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  const source = createOpenApiDocumentSource(app, dataplane);
  // With auth on, the document declares the schemes and each operation's scope (added once per rebuilt document).
  const secured = new WeakSet<OpenApiDocument>();
  const document = auth === undefined ? source : (): OpenApiDocument => {
    const current = source();
    if (!secured.has(current)) secured.add(withSecurity(current, auth, templates));
    return current;
  };
  app.decorate('openapiDocument', document);

  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    transformSpecification: () => document(),
    transformSpecificationClone: false,
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs'));
  app.get('/openapi.json', { schema: { hide: true } }, async () => document());

  installAdmission(app, dataplane); // before the model routes: a full queue refuses their calls before the body is read
  buildHealthRoutes(app, dataplane);
  buildMetricsRoute(app, metrics, config.metrics);
  await buildRestRoutes(app, dataplane, bodyLimit, config.server.timing_headers);
  await buildV2Routes(app, dataplane, bodyLimit, config.server.timing_headers);
  await buildOpenAiRoutes(app, dataplane, bodyLimit);
  return app;
}
