/**
 * Sending fuzz requests over real sockets: node:http's client for well-formed requests (paths sent as they are, no
 * URL normalisation, so `%2e%2e` and `%00` reach the server), and raw `net` writes for what no client would send
 * (bad framing, lying Content-Length, garbage request lines). Every exchange is bounded in time.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface FuzzRequest {
  method: string;
  /** Path and query, sent verbatim. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What was generated, for the failure report (route template, mutations). */
  label: string;
  /** `body` is the whole request as written on the socket (sendRaw). */
  raw?: boolean;
  /** Why a 2xx would be a silent wrong answer (the body must be refused), when the generator knows. */
  mustRefuse?: string;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  ms: number;
}

/** No answer within this bound is a failure (the brief's "bounded time"). */
export const ANSWER_BOUND_MS = 5000;

/** Sends `req` with node:http on a fresh connection; rejects when no full answer came within `boundMs`. */
export function send(base: URL, req: FuzzRequest, boundMs = ANSWER_BOUND_MS): Promise<FuzzResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined && !hasHeader(headers, 'transfer-encoding')) headers['content-length'] ??= String(req.body.length);
    let outgoing: ReturnType<typeof httpRequest>;
    try {
      outgoing = httpRequest({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent: false, setHost: !hasHeader(headers, 'host') });
    } catch (error) {
      // node:http refuses some methods, paths and header values itself: not the server's doing; the caller skips it.
      reject(Object.assign(new Error(`client refused the request: ${(error as Error).message}`), { clientSide: true }));
      return;
    }
    const timer = setTimeout(() => {
      outgoing.destroy();
      reject(new Error(`no complete answer within ${boundMs} ms`));
    }, boundMs);
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), ms: performance.now() - started });
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    outgoing.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    outgoing.end(req.body);
  });
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/**
 * Writes `bytes` on a raw TCP connection and reads one HTTP/1.1 response (Content-Length or chunked, or up to close).
 * Resolves `undefined` when the server closed without answering (allowed for some framing errors: nothing to answer).
 */
export function sendRaw(base: URL, bytes: Buffer, boundMs = ANSWER_BOUND_MS): Promise<FuzzResponse | undefined> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: base.hostname, port: Number(base.port) });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (result: FuzzResponse | undefined, error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(result);
    };
    const timer = setTimeout(() => finish(undefined, new Error(`no complete answer within ${boundMs} ms`)), boundMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parseResponse(received, false);
      if (parsed) finish({ ...parsed, ms: performance.now() - started });
    });
    socket.on('error', () => {
      /* a reset after the answer, or instead of one: judged on close */
    });
    socket.on('close', () => {
      const parsed = parseResponse(received, true);
      finish(parsed ? { ...parsed, ms: performance.now() - started } : undefined);
    });
  });
}

/** One HTTP/1.1 response from the start of `data`, or undefined while it is incomplete. */
function parseResponse(data: Buffer, closed: boolean): Omit<FuzzResponse, 'ms'> | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(end + 4);
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    return rest.length >= length ? { status, headers, body: rest.subarray(0, length) } : undefined;
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const chunks: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', offset);
      if (lineEnd === -1) return undefined;
      const size = parseInt(rest.subarray(offset, lineEnd).toString('latin1'), 16);
      if (size === 0) return { status, headers, body: Buffer.concat(chunks) };
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      offset = lineEnd + 2 + size + 2;
    }
  }
  return closed ? { status, headers, body: rest } : undefined;
}

/** A curl-like one-liner that replays `req` (the body as a printf of escaped bytes when it is not plain text). */
export function repro(base: URL, req: FuzzRequest): string {
  if (req.raw && req.body) return `printf '${printable(req.body)}' | nc ${base.hostname} ${base.port}`;
  const headers = Object.entries(req.headers).map(([name, value]) => ` -H ${shell(`${name}: ${value}`)}`).join('');
  let body = '';
  if (req.body !== undefined && req.body.length > 0) {
    const text = req.body.toString('utf8');
    const plain = Buffer.from(text, 'utf8').equals(req.body) && ![...text].some((c) => c.charCodeAt(0) < 0x20 && c !== '\n' && c !== '\t');
    const shown = plain ? text : printable(req.body);
    const clipped = shown.length > 600 ? `${shown.slice(0, 600)}…(${req.body.length} bytes)` : shown;
    body = plain ? ` --data-binary ${shell(clipped)}` : ` --data-binary "$(printf '${clipped}')"`;
  }
  return `curl -sS -X ${req.method}${headers}${body} ${shell(`${base.origin}${req.path.length > 300 ? `${req.path.slice(0, 300)}…` : req.path}`)}`;
}

/** Bytes as a printf format: printable ASCII as is, everything else as \\xNN (cut after 900 characters). */
function printable(bytes: Buffer): string {
  const text = [...bytes].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c && b !== 0x25 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  return text.length > 900 ? `${text.slice(0, 900)}…(${bytes.length} bytes)` : text;
}

function shell(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
