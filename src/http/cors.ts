/**
 * CORS (`cors:` in the config, docs/cors-and-tls.md) through @fastify/cors, registered only when the section is there.
 * Its onRequest hook answers a preflight (OPTIONS with Origin) with 204 and the allow headers before any route runs,
 * for every route of the app, REST and V2 alike; a simple request from an allowed origin gets Access-Control-Allow-Origin
 * and the exposed headers. A request from an origin not listed gets no CORS header at all (its preflight: 404, as for
 * an OPTIONS on that path without CORS), so the browser blocks the page from reading the answer.
 */
import type { FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { CorsConfig } from '../config/cors-tls-schema.js';

/** The options of @fastify/cors for `cors:`. */
export function corsOptions(cors: CorsConfig): FastifyCorsOptions {
  const anyOrigin = cors.origins.includes('*');
  const allowed = new Set(cors.origins);
  return {
    // `*` is sent as is (no Vary: Origin needed). Otherwise the request's origin is echoed when listed, else nothing:
    // a function (not the list) so that an unlisted origin's preflight is not answered at all.
    origin: anyOrigin ? '*' : (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    methods: cors.methods,
    allowedHeaders: cors.headers,
    exposedHeaders: cors.expose_headers,
    credentials: cors.credentials,
    ...(cors.max_age_s === undefined ? {} : { maxAge: cors.max_age_s }),
    // An OPTIONS from an allowed origin without Access-Control-Request-Method gets the 204 too, instead of the plugin's
    // text/plain 400, which is in no format of longshore's.
    strictPreflight: false,
    hideOptionsRoute: true,
  };
}

/** Registers @fastify/cors on the root of `app`, before the routes, when `cors:` is set. */
export async function installCors(app: FastifyInstance, cors: CorsConfig | undefined): Promise<void> {
  if (cors === undefined) return;
  // Imported only when configured: a server without `cors:` does not load the plugin.
  const { default: fastifyCors } = await import('@fastify/cors');
  await app.register(fastifyCors, corsOptions(cors));
}
