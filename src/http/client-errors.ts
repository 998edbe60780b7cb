/**
 * Errors Node's HTTP parser raises before fastify routes a request (fastify's `clientErrorHandler`): a malformed
 * request line or header (400), headers too large (431), chunk extensions too large (413), and the server's timeouts
 * (408: headers not in within `server.headers_timeout_ms`, or the whole request not within `server.request_timeout_ms`).
 * They are answered in longshore's format like every other error: the REST body, or `{"error": ...}` when the request
 * line names a path under /v2. fastify's own handler would answer with its body instead.
 */
import { randomUUID } from 'node:crypto';
import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { ExpectationFailedError, HeadersTooLargeError, MalformedRequestError, PayloadTooLargeError, quote, RequestTimeoutError, type LongshoreError } from '../errors.js';
import { markAnsweredOnSocket, requestIdOf, unroutedErrorBody } from './error-handler.js';

/** The timeouts named in a 408's message. */
export interface ClientTimeouts {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** What Node passes to 'clientError' (a parse error also has `rawPacket`, the bytes read so far). */
type ParserError = Error & { code?: string };

/** Maps an error of Node's HTTP parser or timers into the catalogue. `inFlight`: the request's headers had been read. */
function parserErrorToCatalogue(error: ParserError, inFlight: boolean, timeouts: ClientTimeouts): LongshoreError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return inFlight
        ? new RequestTimeoutError(`the request was not received in full within ${timeouts.requestTimeoutMs} ms (server.request_timeout_ms)`)
        : new RequestTimeoutError(`the request headers were not received within ${timeouts.headersTimeoutMs} ms (server.headers_timeout_ms)`);
    case 'HPE_HEADER_OVERFLOW':
      return new HeadersTooLargeError(`the request line and headers are larger than ${maxHeaderSize} bytes`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new PayloadTooLargeError('the chunk extensions of the request body are too large');
    default:
      return new MalformedRequestError(`malformed HTTP request: ${error.message}${error.code === undefined ? '' : ` (${error.code})`}`);
  }
}

/** The path of the request line at the start of `packet`, if there is one. */
function requestPath(packet: unknown): string | undefined {
  if (!Buffer.isBuffer(packet)) return undefined;
  return /^[!#-'*+.^-z|~\w]+ (\/\S*)/.exec(packet.toString('latin1', 0, Math.min(packet.length, 4096)))?.[1];
}

/** fastify's `clientErrorHandler`: answers in longshore's format, then closes the connection, as Node would. */
export function createClientErrorHandler(timeouts: ClientTimeouts, logger: FastifyBaseLogger): (error: ParserError, socket: Socket) => void {
  return (error, socket) => {
    // A reset connection has nobody left to answer (https://nodejs.org/api/http.html#event-clienterror).
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    // A request whose headers were read has a response object: its URL and request id are known then.
    const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
    const catalogueError = parserErrorToCatalogue(error, response !== undefined, timeouts);
    const path = response?.req.url ?? requestPath((error as { rawPacket?: unknown }).rawPacket) ?? '';
    const id = (response === undefined ? undefined : requestIdOf(response)) ?? randomUUID();
    logger.debug({ request_id: id, status: catalogueError.status, error_type: catalogueError.type, code: error.code }, catalogueError.message);
    // Never write into a response already under way: that would corrupt what the client reads.
    if (socket.writable && (response === undefined || !response.headersSent)) {
      if (response !== undefined) markAnsweredOnSocket(response, catalogueError);
      const body = JSON.stringify(unroutedErrorBody(path)(catalogueError));
      socket.write(
        `HTTP/1.1 ${catalogueError.status} ${STATUS_CODES[catalogueError.status] ?? ''}\r\n` +
          `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `x-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}

/** A client-sent request id is kept if it is short and plain; anything else is replaced, so logs stay clean. */
const SAFE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** The request id of a request (fastify's genReqId, and answers Node sends before fastify sees the request). */
export function requestId(request: IncomingMessage): string {
  const sent = request.headers['x-request-id'];
  return typeof sent === 'string' && SAFE_REQUEST_ID.test(sent) ? sent : randomUUID();
}

/** Node's 'checkExpectation': an `Expect` other than 100-continue gets 417 in longshore's format (Node's own has no body). */
export function answerExpectationFailed(request: IncomingMessage, response: ServerResponse): void {
  const error = new ExpectationFailedError(`unsupported Expect header ${quote(String(request.headers.expect))}; send Expect: 100-continue or no Expect header`);
  const body = JSON.stringify(unroutedErrorBody(request.url ?? '')(error));
  response.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId(request),
    connection: 'close',
  });
  response.end(body);
}
