/**
 * The access log (logging.access_log): one line per request, written when its response has been sent (or when the
 * client went away first). A failure the error handler would log (a 5xx other than 503/504) is logged here instead,
 * on the same line at level `error` with the full error, so each request has exactly one line.
 */
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { openApiTemplate } from '../metrics/http-metrics.js';
import { isLoggedFailure } from './error-handler.js';

/** The router's template → the OpenAPI-style route written in the log; one entry per route. */
const templates = new Map<string, string>();

export function routeTemplate(route: string): string {
  let template = templates.get(route);
  if (template === undefined) templates.set(route, (template = openApiTemplate(route)));
  return template;
}

/** HTTP status logged (and counted) for a request whose client closed the connection before the response was sent. */
export const CLIENT_CLOSED_STATUS = 499;

/** Writes the access line of one request. `route` is the router's template, undefined when no route matched. */
export function writeAccessLine(logger: Logger, request: FastifyRequest, route: string | undefined, status: number, ms: number, aborted: boolean): void {
  const error = request.longshoreError;
  // Below info (logging.level warn or error) only failures are written: skip building the line for the rest.
  if ((error === null || !isLoggedFailure(error)) && !logger.isLevelEnabled('info')) return;
  const params = request.params as { name?: unknown } | undefined;
  const line: Record<string, unknown> = {
    request_id: request.id,
    method: request.method,
    route: route === undefined ? null : routeTemplate(route),
    model: typeof params?.name === 'string' ? params.name : undefined,
    status,
    duration_ms: Math.round(ms * 1000) / 1000,
  };
  // The URL only when no route matched: it says what the client asked for, and a log line is not a metric label.
  if (route === undefined) line.url = request.url;
  if (error !== null) {
    line.error_type = error.type;
    if (isLoggedFailure(error)) {
      line.err = error.cause instanceof Error ? error.cause : error;
      // The message is what the client was told (as the error handler's own line says it); status 499 marks a client
      // that left before it could be told.
      logger.error(line, error.message);
      return;
    }
  }
  logger.info(line, aborted ? 'request aborted by the client' : 'request completed');
}
