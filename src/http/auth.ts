/**
 * API keys and scopes (docs/security.md): a root onRequest hook, installed only when the config has `auth:`, that finds
 * the route's scope by its template and checks the request's key before anything else looks at the request (the body
 * of a refused request is never read). The key check itself (SHA-256 digests, crypto.timingSafeEqual against every
 * configured key, no early exit) is config/api-keys.ts, shared with the gRPC port.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiKeyLookup, bearerOrApiKey } from '../config/api-keys.js';
import type { AuthScope, ResolvedAuth } from '../config/schema.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { sendError } from './error-handler.js';
import type { OpenApiDocument } from './openapi.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The id of the API key the request was let in with (its source, e.g. `env LONGSHORE_KEY`; never the key), else null. */
    longshoreKeyId: string | null;
  }
}

/** `open`: no key needed (the health probes while auth.open_health is true, the docs while auth.open_docs is). */
export type RouteAccess = AuthScope | 'open';

/** The health probes: open unless auth.open_health is false, then `read`. */
const HEALTH_ROUTES = ['/api/health', '/api/health/ready', '/api/health/startup', '/v2/health/live', '/v2/health/ready'];

/** The scope of every route, by route template. A route missing here needs `admin` (fail closed; a test checks none is). */
export const ROUTE_SCOPES: ReadonlyMap<string, AuthScope> = new Map<string, AuthScope>([
  ['/api/models', 'read'],
  ...['/api/models/:name', '/api/models/:name/versions/:version'].flatMap((prefix): [string, AuthScope][] => [
    [`${prefix}/metadata`, 'read'],
    [`${prefix}/prediction`, 'predict'],
    [`${prefix}/predictions`, 'predict'],
    [`${prefix}/score`, 'predict'],
    [`${prefix}/explain`, 'predict'],
    [`${prefix}/operations/:operation`, 'predict'],
  ]),
  ['/v2', 'read'],
  ['/v2/', 'read'],
  ...['/v2/models/:name', '/v2/models/:name/versions/:version'].flatMap((prefix): [string, AuthScope][] => [
    [prefix, 'read'],
    [`${prefix}/ready`, 'read'],
    [`${prefix}/infer`, 'predict'],
    [`${prefix}/explain`, 'predict'],
  ]),
  ['/v1/embeddings', 'predict'],
  ['/metrics', 'metrics'],
]);

/**
 * The API docs: the `/` redirect, `/openapi.json`, and `/docs` with everything under it (Swagger UI's page, its
 * assets, its own copy of the spec at /docs/json). Open while auth.open_docs is true, else `read`: a browser sends no
 * key for them, and Swagger UI cannot show its Authorize button before it has fetched the spec.
 */
function isDocsRoute(template: string): boolean {
  return template === '/' || template === '/openapi.json' || template === '/docs' || template.startsWith('/docs/');
}

/**
 * The group of a route, by template: its scope, `health` for the probes, `docs` for the API docs (whose scope is
 * `read`). A route not listed is `admin`. API keys (below) and limits (limits.ts) both classify routes with it.
 */
export function routeScope(template: string): AuthScope | 'health' | 'docs' {
  if (HEALTH_ROUTES.includes(template)) return 'health';
  if (isDocsRoute(template)) return 'docs';
  return ROUTE_SCOPES.get(template) ?? 'admin';
}

/**
 * What a route needs: its scope; the health probes are open unless auth.open_health is false, the docs unless
 * auth.open_docs is false, then `read`.
 */
export function routeAccess(template: string, auth: ResolvedAuth): RouteAccess {
  const scope = routeScope(template);
  if (scope === 'health') return auth.open_health ? 'open' : 'read';
  if (scope === 'docs') return auth.open_docs ? 'open' : 'read';
  return scope;
}

/** The key a request carries: `Authorization: Bearer <key>` (scheme case-insensitive), else `x-api-key`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  return bearerOrApiKey(request.headers.authorization, request.headers['x-api-key']);
}

/**
 * Installs the check. Call it before the routes are declared. A request that matched no route is let through to the
 * 404 it gets anyway (it names nothing a key protects).
 */
export function installAuth(app: FastifyInstance, auth: ResolvedAuth): void {
  const keyOf = apiKeyLookup(auth);
  app.decorateRequest('longshoreKeyId', null);
  // Resolved once per route, not per request.
  const access = new Map<string, RouteAccess>();
  app.addHook('onRoute', (route) => void access.set(route.url, routeAccess(route.url, auth)));
  // Callback style, like the other root hooks: no promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    const template = request.routeOptions.url;
    const needed = template === undefined ? 'open' : (access.get(template) ?? routeAccess(template, auth));
    if (needed === 'open') return done();
    // A CORS preflight never carries credentials (browsers send none); it reveals nothing and is answered by the CORS
    // hook (http/cors.ts), or falls through to a 404 without `cors:`.
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) return done();
    const key = presentedKey(request);
    if (key === undefined) return refuse(request, reply, 'Bearer', new UnauthorizedError(`this route needs an API key: send Authorization: Bearer <key> or x-api-key: <key>`));
    const granted = keyOf(key);
    if (granted === undefined) return refuse(request, reply, 'Bearer error="invalid_token"', new UnauthorizedError('the API key is not valid'));
    if (!granted.scopes.has(needed)) {
      return refuse(request, reply, `Bearer error="insufficient_scope", scope="${needed}"`, new ForbiddenError(`the API key lacks the scope '${needed}' this route needs`));
    }
    request.longshoreKeyId = granted.id;
    done();
  });
}

function refuse(request: FastifyRequest, reply: FastifyReply, challenge: string, error: UnauthorizedError | ForbiddenError): void {
  reply.header('www-authenticate', challenge);
  sendError(request, reply, error);
}

const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key>, a key of auth.keys.' },
  apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'The same keys, in the x-api-key header.' },
};

const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/**
 * Declares the security schemes in `document` and each operation's requirement: either scheme, with the scope as its
 * role (OpenAPI 3.1 allows role names for non-OAuth schemes); `security: []` on the open health probes. Paths are
 * matched against the route templates, so the per-model paths (`/api/models/iris/prediction`) get their route's scope.
 */
export function withSecurity(document: OpenApiDocument, auth: ResolvedAuth, templates: Iterable<string>): OpenApiDocument {
  const patterns = [...new Set(templates)].map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}$`),
  }));
  (document.components as Record<string, unknown>).securitySchemes = SECURITY_SCHEMES;
  for (const [path, item] of Object.entries(document.paths)) {
    const concrete = path.replace(/\{[^}]+\}/g, 'x');
    const template = patterns.find(({ template: exact }) => exact === path.replace(/\{(\w+)\}/g, ':$1'))?.template ?? patterns.find(({ pattern }) => pattern.test(concrete))?.template;
    const needed = template === undefined ? 'admin' : routeAccess(template, auth);
    for (const method of OPERATION_METHODS) {
      const operation = (item as Record<string, Record<string, unknown> | undefined>)[method];
      if (operation === undefined) continue;
      operation.security = needed === 'open' ? [] : [{ bearer: [needed] }, { apiKey: [needed] }];
      if (needed !== 'open') {
        const responses = (operation.responses ??= {}) as Record<string, unknown>;
        responses['401'] ??= { description: 'UnauthorizedError: no API key, or one the server does not know (WWW-Authenticate: Bearer).' };
        responses['403'] ??= { description: `ForbiddenError: the API key lacks the '${needed}' scope.` };
      }
    }
  }
  return document;
}
