/** The client's transport: one fetch per call, with its base URL, default headers, timeout and error mapping. */
import { LongshoreClientError, parseErrorBody } from './errors.js';
import type { LongshoreClientOptions } from './types.js';

/** An answer, its body read in full. */
export interface HttpAnswer {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly requestId: string | undefined;
}

export interface SendOptions {
  readonly body?: string | Uint8Array<ArrayBuffer>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Non-2xx statuses that are answers rather than errors (e.g. 503 from a readiness probe). */
  readonly accept?: readonly number[];
}

export class Transport {
  readonly baseUrl: string;
  readonly #timeoutMs: number | undefined;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(baseUrl: string | URL, options: LongshoreClientOptions = {}) {
    const url = new URL(String(baseUrl));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`the base URL must be http(s), got ${url.href}`);
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) throw new RangeError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
    // The server learns the deadline too, so it drops work nobody will wait for (queued requests leave its queue).
    const deadline: Record<string, string> = options.timeoutMs === undefined ? {} : { 'x-request-timeout-ms': String(options.timeoutMs) };
    if (options.apiKey !== undefined && (options.apiKey === '' || /[\r\n]/.test(options.apiKey))) throw new TypeError('apiKey must be a non-empty string on one line');
    const credentials: Record<string, string> = options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
    this.#headers = { ...deadline, ...credentials, ...options.headers };
  }

  /** Sends one request; a non-2xx status (not in `accept`) or no answer at all throws LongshoreClientError. */
  async send(method: string, path: string, options: SendOptions = {}): Promise<HttpAnswer> {
    const url = `${this.baseUrl}${path}`;
    const signal = this.#timeoutMs === undefined ? undefined : AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    let body: Buffer;
    try {
      response = await fetch(url, { method, headers: { ...this.#headers, ...options.headers }, body: options.body ?? null, signal: signal ?? null });
      body = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      throw new LongshoreClientError(`${method} ${url}: ${describeFailure(error, this.#timeoutMs)}`, { status: 0, method, url, cause: error });
    }
    const requestId = response.headers.get('x-request-id') ?? undefined;
    const answer = { method, url, status: response.status, headers: response.headers, body, requestId };
    if (response.ok || options.accept?.includes(response.status)) return answer;
    const text = body.toString('utf8');
    const parsed = parseErrorBody(text);
    const message = parsed.message ?? `${method} ${url} answered ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`;
    throw new LongshoreClientError(message, { ...parsed, status: response.status, method, url, ...(requestId === undefined ? {} : { requestId }) });
  }
}

/** The error for a 2xx answer whose body is not what the protocol says. */
export function malformedAnswer(answer: HttpAnswer, problem: string, cause?: unknown): LongshoreClientError {
  const { status, method, url, requestId } = answer;
  return new LongshoreClientError(`${method} ${url}: malformed response: ${problem}`, { status, method, url, cause, ...(requestId === undefined ? {} : { requestId }) });
}

/** An answer's body as JSON. */
export function jsonBody<T>(answer: HttpAnswer): T {
  try {
    return JSON.parse(answer.body.toString('utf8')) as T;
  } catch (error) {
    throw malformedAnswer(answer, `the body is not valid JSON (${(error as Error).message})`, error);
  }
}

function describeFailure(error: unknown, timeoutMs: number | undefined): string {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError') return `no complete answer within ${timeoutMs} ms (timeoutMs)`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return detail === undefined ? message : `${message} (${detail})`;
}
