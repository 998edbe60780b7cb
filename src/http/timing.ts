/**
 * Per-request timing over HTTP (docs/timing.md): the `Server-Timing` header of REST prediction/predictions and V2 infer
 * answers, sent for every one with `server.timing_headers: true`, else for a request with `x-longshore-timing: 1`.
 * A timed request gets a CallTiming (tracing/timing.ts) in its CallContext; the queue fills in its queue wait, batch
 * and model call, this module the body parse (REST JSON) and the encoding. `total` is fastify's own clock
 * (`reply.elapsedTime`, started when the request arrived, before the onRequest hooks). An untimed request costs one
 * header lookup: no timestamp, no object.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext } from '../call-context.js';
import { CallTiming, serverTimingValue } from '../tracing/timing.js';
import { callOptions } from './call-options.js';

/** The request header that asks for timing on one request. */
export const TIMING_REQUEST_HEADER = 'x-longshore-timing';
export const SERVER_TIMING_HEADER = 'server-timing';

/** Whether a request is timed: all of them with server.timing_headers, else those sending `x-longshore-timing: 1`. */
export function isTimed(request: FastifyRequest, always: boolean): boolean {
  return always || request.headers[TIMING_REQUEST_HEADER] === '1';
}

/** The body parse time of timed REST JSON requests (media-types.ts), read when their handler starts. */
const parseTimes = new WeakMap<FastifyRequest, number>();

/** Records how long a timed request's body took to parse (checked as UTF-8, then JSON.parse). */
export function noteParse(request: FastifyRequest, ms: number): void {
  parseTimes.set(request, ms);
}

/** A timed request's CallTiming, decoding counted from now (plus the body parse before the handler, if any). */
export function startTiming(request: FastifyRequest): CallTiming {
  return new CallTiming(performance.now(), parseTimes.get(request) ?? 0);
}

/** Sets `Server-Timing` from what the request's timing holds, `total` up to now. */
export function setServerTiming(reply: FastifyReply, timing: CallTiming): void {
  reply.header(SERVER_TIMING_HEADER, serverTimingValue(timing, reply.elapsedTime));
}

/** Runs a timed call; when it fails, its answer (the error) still carries what was measured before it failed. */
export async function timedCall<T>(reply: FastifyReply, timing: CallTiming, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    setServerTiming(reply, timing);
    throw error;
  }
}

/**
 * A timed REST answer: serialized here (JSON.stringify, what fastify does for these routes, which have no response
 * schema) so the encoding can be measured, then sent with `Server-Timing`.
 */
export async function sendTimedJson(reply: FastifyReply, timing: CallTiming, call: () => Promise<unknown>): Promise<FastifyReply> {
  const value = await timedCall(reply, timing, call);
  const started = performance.now();
  const body = JSON.stringify(value);
  timing.encodeMs = performance.now() - started;
  setServerTiming(reply, timing);
  return reply.type('application/json; charset=utf-8').send(body);
}

/**
 * A REST model call: as it is when the request is not timed (fastify serializes the answer), else timed and sent with
 * `Server-Timing` (sendTimedJson). `call` gets the request's CallContext.
 */
export function restCall(request: FastifyRequest, reply: FastifyReply, always: boolean, call: (context: CallContext) => Promise<unknown>): Promise<unknown> {
  if (!isTimed(request, always)) return call(callOptions(request, reply));
  const timing = startTiming(request);
  return sendTimedJson(reply, timing, () => call(callOptions(request, reply, undefined, timing)));
}
