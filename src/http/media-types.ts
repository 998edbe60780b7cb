/**
 * The media types request bodies may have, checked before a body is read:
 *
 * - REST JSON routes take `application/json`, whose charset (if given) must be UTF-8 (RFC 8259: JSON text exchanged
 *   between systems is UTF-8); `charset=latin1`, `utf-16`... are a 415 naming the charset. Other types are refused by
 *   fastify (415) as before.
 * - The Open Inference Protocol routes that take a body (infer, explain) take `application/json` (UTF-8, as above),
 *   `application/octet-stream` (the binary tensor extension) or no Content-Type at all; anything else is a 415 in the V2
 *   body. The Inference-Header-Content-Length header, not the type, tells JSON from framed binary.
 *
 * JSON bodies must also be valid UTF-8: a byte sequence that is not (a lone 0xff in a string) is a 400, never decoded
 * with U+FFFD in its place. `installUtf8JsonParser` does that for REST; the V2 decoder checks its JSON itself.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MalformedRequestError, quote, UnsupportedMediaTypeError } from '../errors.js';
import { isTimed, noteParse } from './timing.js';

/** Which body rules a route follows. */
export type BodyRules = 'json' | 'v2';

interface MediaType {
  /** `type/subtype`, lower case. */
  readonly essence: string;
  /** The charset parameter as sent (unquoted), if any. */
  readonly charset?: string;
}

/** Parses a Content-Type value; undefined when it has no `type/subtype`. */
function parseMediaType(value: string): MediaType | undefined {
  const [head = '', ...parameters] = value.split(';');
  const essence = head.trim().toLowerCase();
  if (!/^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+$/.test(essence)) return undefined;
  for (const parameter of parameters) {
    const at = parameter.indexOf('=');
    if (at === -1 || parameter.slice(0, at).trim().toLowerCase() !== 'charset') continue;
    const charset = parameter.slice(at + 1).trim().replace(/^"(.*)"$/, '$1');
    return { essence, charset };
  }
  return { essence };
}

const UTF8_CHARSETS = new Set(['utf-8', 'utf8']);

/** The two values nearly every client sends, accepted without parsing. */
const PLAIN_JSON = 'application/json';
const PLAIN_OCTETS = 'application/octet-stream';

/** Why a request's Content-Type is refused under `rules` (415), or undefined when it is accepted. */
export function mediaTypeProblem(contentType: string | undefined, rules: BodyRules): UnsupportedMediaTypeError | undefined {
  if (contentType === undefined || contentType === PLAIN_JSON) return undefined;
  if (rules === 'v2' && contentType === PLAIN_OCTETS) return undefined;
  const type = parseMediaType(contentType);
  if (type?.essence === PLAIN_JSON) {
    if (type.charset === undefined || UTF8_CHARSETS.has(type.charset.toLowerCase())) return undefined;
    return new UnsupportedMediaTypeError(
      `Content-Type charset ${quote(type.charset)} is not supported; JSON must be sent UTF-8 encoded (application/json, or application/json; charset=utf-8)`,
    );
  }
  if (rules === 'json') return undefined; // fastify refuses any type it has no parser for
  if (type?.essence === PLAIN_OCTETS) return undefined;
  return new UnsupportedMediaTypeError(
    `Content-Type ${quote(contentType)} is not accepted by the Open Inference Protocol routes; send application/json (UTF-8), or application/octet-stream for the binary tensor extension`,
  );
}

/**
 * Replaces fastify's JSON parser (which decodes bytes that are not UTF-8 into U+FFFD) with one that refuses them, and
 * otherwise is fastify's own: same empty-body and invalid-JSON errors, same prototype-poisoning protection. For a
 * timed request (`timingAlways`: server.timing_headers; http/timing.ts) the parse is timed as part of its decoding.
 */
export function installUtf8JsonParser(app: FastifyInstance, timingAlways = false): void {
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig;
  const parseJson = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if (isTimed(request, timingAlways)) {
      const started = performance.now();
      parse(request, body as Buffer, (error, value) => {
        noteParse(request, performance.now() - started);
        done(error, value);
      });
      return;
    }
    parse(request, body as Buffer, done);
  });
  function parse(request: FastifyRequest, bytes: Buffer, done: (error: Error | null, value?: unknown) => void): void {
    if (!isUtf8(bytes)) {
      done(new MalformedRequestError('request body is not valid UTF-8; send JSON UTF-8 encoded'), undefined);
      return;
    }
    parseJson(request, bytes.toString('utf8'), done);
  }
}
