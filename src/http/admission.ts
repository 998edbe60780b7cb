/**
 * Refusal on arrival (docs/batching.md#load-shedding-max_queue_size): a call of a model whose queue is already full is
 * answered 503 QueueFullError before its body is read, so shedding load costs a lookup and a comparison instead of a
 * body parsed, validated and turned into tensors for nothing. A route-level preParsing hook on the model call routes
 * (REST prediction, predictions, score, explain; V2 infer and explain), added as those routes are declared. The body
 * that was not read is discarded by Node once the answer is sent, so a keep-alive connection stays usable.
 *
 * The answers that outrank a full queue stay as the routes give them, from the dataplane's own checks (run only when
 * the queue is full): unknown model or version 404, no endpoint (create_endpoint: false) 404, no explain() 501 on the
 * explain routes, not ready 503 ModelNotReadyError.
 */
import type { FastifyInstance, preParsingHookHandler } from 'fastify';
import type { ArrivingCall, Dataplane } from '../dataplane/dataplane.js';

/** The POST routes refused on arrival, by route template. Operations (`/operations/{op}`) are not: they do not queue. */
const GUARDED_ROUTES: ReadonlyMap<string, ArrivingCall> = new Map([
  ...['/api/models/:name', '/api/models/:name/versions/:version'].flatMap((prefix): [string, ArrivingCall][] => [
    [`${prefix}/prediction`, 'predict'],
    [`${prefix}/predictions`, 'predict_batch'],
    [`${prefix}/score`, 'score'],
    [`${prefix}/explain`, 'explain'],
  ]),
  ['/v2/models/:name/infer', 'infer'],
  ['/v2/models/:name/versions/:version/infer', 'infer'],
  ['/v2/models/:name/explain', 'explain'],
  ['/v2/models/:name/versions/:version/explain', 'explain'],
]);

/**
 * Not for users: `BENCH_EARLY_REFUSAL=off` in the server's environment leaves the check out, so bench/overload.ts can
 * measure what it saves (the refusal then comes from the batcher, after the body was decoded). Read once, at build.
 */
export const EARLY_REFUSAL_SWITCH = 'BENCH_EARLY_REFUSAL';

/** Adds the check to every guarded route declared from now on; call it before the model routes are registered. */
export function installAdmission(app: FastifyInstance, dataplane: Dataplane, env: NodeJS.ProcessEnv = process.env): void {
  if (env[EARLY_REFUSAL_SWITCH] === 'off') return;
  app.addHook('onRoute', (route) => {
    const call = GUARDED_ROUTES.get(route.url);
    if (call === undefined || route.method !== 'POST') return;
    const hook = admissionHook(dataplane, call);
    // First of the route's preParsing hooks (the body checks of request-body.ts come after it): a full queue refuses
    // before anything about the body is looked at. preParsing, not onRequest: a route-level onRequest hook cost about
    // 4% of served iris at c=64 (measured), a second preParsing hook nothing measurable.
    const existing = route.preParsing;
    route.preParsing = existing === undefined ? [hook] : [hook, ...(Array.isArray(existing) ? existing : [existing])];
  });
}

function admissionHook(dataplane: Dataplane, call: ArrivingCall): preParsingHookHandler {
  // Callback style: a promise per request is measurable on this path.
  return (request, _reply, payload, done) => {
    const { name, version } = request.params as { name: string; version?: string };
    const refusal = dataplane.refusalOnArrival(name, version, call);
    if (refusal === undefined) done(null, payload);
    else done(refusal);
  };
}
