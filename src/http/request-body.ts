/**
 * The checks every route that takes a body runs before the body is read, as one route-level preParsing hook: the
 * Content-Type against the route's rules (media-types.ts), then the Content-Encoding (request-encoding.ts). Added as
 * routes are declared, so routes without a body (GET) run nothing, and a plain request costs two header reads.
 */
import type { FastifyInstance, preParsingHookHandler, RouteOptions } from 'fastify';
import { LongshoreError } from '../errors.js';
import { mediaTypeProblem, type BodyRules } from './media-types.js';
import { ACCEPTED_ENCODINGS, decodeRequestBody } from './request-encoding.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'QUERY']);

function takesBody(route: RouteOptions): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods.some((method) => BODY_METHODS.has(method.toUpperCase()));
}

/** The hook for one route: `rules` for its media types, `limit` for its decoded body (set by `limitKey`, for the 413). */
function bodyChecks(rules: BodyRules, limit: number, limitKey: string | undefined): preParsingHookHandler {
  return (request, reply, payload, done) => {
    const problem = mediaTypeProblem(request.headers['content-type'], rules);
    if (problem !== undefined) {
      done(problem);
      return;
    }
    let body: ReturnType<typeof decodeRequestBody>;
    try {
      body = decodeRequestBody(request.headers, payload, limit, limitKey);
    } catch (error) {
      if (!(error instanceof LongshoreError)) throw error;
      // RFC 9110 12.5.3 (and Triton): a 415 for a coding says which codings the server takes.
      reply.header('accept-encoding', ACCEPTED_ENCODINGS);
      done(error);
      return;
    }
    done(null, body);
  };
}

/**
 * Adds the checks to every route with a body declared from now on (call it before the routes are registered): the
 * Open Inference Protocol rules under /v2, the JSON rules elsewhere.
 */
export function installRequestBodyChecks(app: FastifyInstance, bodyLimitBytes: number): void {
  app.addHook('onRoute', (route) => {
    if (!takesBody(route)) return;
    const hook = bodyChecks(route.url.startsWith('/v2') ? 'v2' : 'json', route.bodyLimit ?? bodyLimitBytes, route.config?.longshoreLimits?.bodyLimitKey);
    const existing = route.preParsing;
    route.preParsing = existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
  });
}
