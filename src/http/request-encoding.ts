/**
 * Compressed request bodies (`Content-Encoding`), as Triton's clients send them with `request_compression_algorithm`:
 * `gzip` (and its alias `x-gzip`), `deflate` (the zlib format, RFC 9110 8.4.1.2) and `br` are decoded with node:zlib
 * before the body is parsed; `identity` is no coding. The decoded body is bounded by the same limit as any body
 * (server.body_limit_bytes): past it decoding stops and the answer is 413, so a small "zip bomb" costs at most the limit
 * in decoded bytes, never the memory it would expand to. A body that is not valid data of its coding is a 400 naming
 * the coding; any other coding is a 415.
 *
 * A request without Content-Encoding costs one header read: the body stream is handed on untouched.
 */
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { MalformedRequestError, PayloadTooLargeError, quote, UnsupportedMediaTypeError } from '../errors.js';

/** The codings longshore decodes, by their Content-Encoding token (lower case). */
const DECODERS: ReadonlyMap<string, () => Transform> = new Map([
  ['gzip', createGunzip],
  ['x-gzip', createGunzip],
  ['deflate', createInflate],
  ['br', createBrotliDecompress],
]);

const SUPPORTED_ENCODINGS = 'gzip, deflate or br';

/** The `Accept-Encoding` answered with a 415 for a coding longshore does not decode. */
export const ACCEPTED_ENCODINGS = 'gzip, deflate, br';

/** What fastify reads off a preParsing stream: the bytes that arrived on the wire, for Content-Length and the limit. */
type DecodedBody = Transform & { receivedEncodedLength: number };

/**
 * The body to parse: `payload` itself when there is no coding to undo (no header, `identity`, or an empty body),
 * else a stream of the decoded bytes. Throws 415 for a coding longshore does not decode.
 */
export function decodeRequestBody(headers: Readonly<Record<string, string | string[] | undefined>>, payload: Readable, limit: number, limitKey = 'server.body_limit_bytes'): Readable {
  const header = headers['content-encoding'];
  if (header === undefined) return payload;
  const coding = contentCoding(typeof header === 'string' ? header : header.join(','));
  if (coding === undefined || headers['content-length'] === '0') return payload;
  return decodingStream(payload, coding, limit, limitKey);
}

/** The one coding to undo (undefined for identity), from a Content-Encoding value; 415 for anything else. */
function contentCoding(value: string): string | undefined {
  const codings = value
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '' && token !== 'identity');
  if (codings.length === 0) return undefined;
  const unsupported = codings.find((coding) => !DECODERS.has(coding));
  if (unsupported !== undefined) {
    throw new UnsupportedMediaTypeError(
      `Content-Encoding ${quote(unsupported)} is not supported; send the body uncompressed (identity) or compressed with ${SUPPORTED_ENCODINGS}`,
    );
  }
  if (codings.length > 1) {
    throw new UnsupportedMediaTypeError(`Content-Encoding ${quote(value)} applies ${codings.length} codings; send the body compressed once, with ${SUPPORTED_ENCODINGS}`);
  }
  return codings[0];
}

function decodingStream(payload: Readable, coding: string, limit: number, limitKey: string): Readable {
  const decoder = (DECODERS.get(coding) as () => Transform)();
  let decodedBytes = 0;
  const output = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      decodedBytes += chunk.length;
      if (decodedBytes > limit) {
        callback(new PayloadTooLargeError(`request body is larger than the limit of ${limit} bytes (${limitKey}) once decoded from ${coding}`));
        return;
      }
      callback(null, chunk);
    },
  }) as DecodedBody;
  output.receivedEncodedLength = 0;
  const onData = (chunk: Buffer): void => {
    output.receivedEncodedLength += chunk.length;
  };
  // The client gone mid-body: pipe() does not pass errors on, so the reader would wait for an end that never comes.
  const onPayloadError = (error: Error): void => {
    output.destroy(error);
  };
  // The reader (fastify's body parser) listens for errors once it reads; a body refused before it is read (415 for its
  // Content-Type) has no reader, and its decoding error must not become an uncaught exception.
  output.on('error', () => {});
  payload.on('data', onData);
  payload.once('error', onPayloadError);
  decoder.once('error', (error: Error) => {
    output.destroy(new MalformedRequestError(`request body is not valid ${coding} data (Content-Encoding: ${coding}): ${error.message}`));
  });
  // Stop decoding on any failure (bad data, past the limit, the client gone); what is left of the body is read and
  // dropped, so the answer still reaches the client.
  output.once('close', () => {
    payload.removeListener('data', onData);
    payload.removeListener('error', onPayloadError);
    if (payload.readableEnded) return;
    payload.unpipe(decoder);
    decoder.destroy();
    payload.resume();
  });
  payload.pipe(decoder).pipe(output);
  return output;
}
