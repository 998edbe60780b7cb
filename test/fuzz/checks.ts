/**
 * What every answer to a fuzz request must satisfy:
 * - no 5xx except the documented ones (ALLOWED_5XX; a 500 only in ALLOWED_500, which is empty: no served fixture model
 *   is documented to fail);
 * - an error body in longshore's format: REST `{"type","message","details"}` whose `type` is a key of ERROR_STATUS and
 *   whose status is ERROR_STATUS[type]; under /v2 exactly `{"error": string}`; JSON either way;
 * - every error status listed in docs/errors.md's `| Type | Status |` table;
 * - an `x-request-id` header, and JSON that parses whenever the answer says it is JSON;
 * - an answer within ANSWER_BOUND_MS.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ERROR_STATUS, type ErrorType } from '../../src/errors.ts';
import { errorTableRows } from '../docs/errors-table.ts';
import { ANSWER_BOUND_MS, type FuzzRequest, type FuzzResponse } from './wire.ts';

const ERRORS_DOC = resolve(import.meta.dirname, '../../docs/errors.md');

/** The statuses of docs/errors.md's `| Type | Status |` table (test/docs/errors-table.ts, as the docs test reads it). */
export function documentedStatuses(markdown = readFileSync(ERRORS_DOC, 'utf8')): Set<number> {
  const rows = errorTableRows(markdown);
  if (rows === undefined) throw new Error('docs/errors.md has no table with a "| Type | Status |" header: the fuzz judge reads the documented statuses from it');
  return new Set(rows.map((row) => Number(row.cells[1])).filter(Number.isInteger));
}

const DOCUMENTED = documentedStatuses();

/**
 * The 5xx a client may get, by type, with why (docs/errors.md): expected states, not failures. Under /v2 the body has
 * no type, so there the status decides (503, 504, 501 are exactly these types' statuses).
 */
const ALLOWED_5XX: Partial<Record<ErrorType, string>> = {
  QueueFullError: 'load shedding: the queue is full (503, Retry-After)',
  ModelNotReadyError: 'the model is loading, failed to load or unloading (503)',
  DeadlineExceededError: "the client's own deadline (x-request-timeout-ms, parameters.timeout) or the model's timeout_ms passed (504)",
  NotImplementedError: 'explain on a model without explain() (501)',
};
const ALLOWED_V2_5XX = new Set([503, 504, 501]);

/**
 * 500 InferenceError allowed where a fixture model is documented to fail. None: every model the fuzz servers run
 * (examples/longshore.yaml and the ONNX fixtures) is documented to answer every valid input; any 500 is a defect.
 */
const ALLOWED_500: { reason: string; matches(req: FuzzRequest, res: FuzzResponse, body: unknown): boolean }[] = [];

function isV2Path(path: string): boolean {
  return path.startsWith('/v2');
}

function header(res: FuzzResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A framed binary answer (Inference-Header-Content-Length) must add up: a JSON header of that many bytes whose outputs'
 * binary_data_size values account for every byte after it.
 */
function framingProblems(res: FuzzResponse): string[] {
  const announced = header(res, 'inference-header-content-length');
  if (announced === undefined) return [];
  const length = Number(announced);
  if (!Number.isInteger(length) || length < 0 || length > res.body.length) return [`Inference-Header-Content-Length ${announced} for a body of ${res.body.length} bytes`];
  let parsed: { outputs?: { parameters?: { binary_data_size?: unknown } }[] };
  try {
    parsed = JSON.parse(res.body.subarray(0, length).toString('utf8')) as typeof parsed;
  } catch {
    return [`the first ${length} bytes of a framed answer are not JSON`];
  }
  const sizes = (parsed.outputs ?? []).map((output) => output.parameters?.binary_data_size).filter((size) => size !== undefined);
  const total = sizes.reduce<number>((sum, size) => sum + (typeof size === 'number' ? size : NaN), 0);
  return total === res.body.length - length ? [] : [`binary_data_size values ${JSON.stringify(sizes)} do not add up to the ${res.body.length - length} bytes after the header`];
}

/** Every problem of one answer; empty when it is fine. */
export function problemsOf(req: FuzzRequest, res: FuzzResponse): string[] {
  const problems: string[] = [];
  if (res.ms > ANSWER_BOUND_MS) problems.push(`answered after ${Math.round(res.ms)} ms (bound ${ANSWER_BOUND_MS} ms)`);
  if (header(res, 'x-request-id') === undefined) problems.push('no x-request-id header');
  const contentType = header(res, 'content-type') ?? '';
  const hasBody = req.method !== 'HEAD' && res.status !== 204 && res.status !== 304;
  let body: unknown;
  let parsed = false;
  if (hasBody && /^application\/json/i.test(contentType)) {
    try {
      body = JSON.parse(res.body.toString('utf8'));
      parsed = true;
    } catch {
      problems.push(`Content-Type ${contentType} but the body is not JSON: ${res.body.toString('utf8').slice(0, 200)}`);
    }
  }
  if (res.status < 400) {
    if (hasBody && res.status === 200) problems.push(...framingProblems(res));
    if (req.mustRefuse !== undefined && res.status >= 200 && res.status < 300) problems.push(`silent wrong answer: ${res.status} for a body that must be refused (${req.mustRefuse})`);
    return problems;
  }
  if (!DOCUMENTED.has(res.status)) problems.push(`status ${res.status} is not in docs/errors.md's table`);
  if (!hasBody) return problems;
  if (!parsed) {
    if (!/^application\/json/i.test(contentType)) problems.push(`error answered as ${contentType || 'no Content-Type'}, not JSON: ${res.body.toString('utf8').slice(0, 200)}`);
    return problems;
  }
  if (isV2Path(req.path)) {
    const keys = typeof body === 'object' && body !== null ? Object.keys(body) : [];
    if (keys.length !== 1 || keys[0] !== 'error' || typeof (body as { error: unknown }).error !== 'string') {
      problems.push(`a /v2 error body must be {"error": string}, got ${res.body.toString('utf8').slice(0, 200)}`);
    }
    if (res.status >= 500 && !ALLOWED_V2_5XX.has(res.status) && !ALLOWED_500.some((allowed) => allowed.matches(req, res, body))) {
      problems.push(`${res.status} on /v2: ${String((body as { error?: unknown }).error).slice(0, 300)}`);
    }
    return problems;
  }
  const rest = body as { type?: unknown; message?: unknown; details?: unknown };
  const keys = typeof body === 'object' && body !== null ? Object.keys(body).sort().join(',') : '';
  if (keys !== 'details,message,type' || typeof rest.message !== 'string' || !Array.isArray(rest.details)) {
    problems.push(`a REST error body must be {"type","message","details"}, got ${res.body.toString('utf8').slice(0, 200)}`);
    return problems;
  }
  const bad = (rest.details as unknown[]).find((d) => typeof (d as { path?: unknown })?.path !== 'string' || typeof (d as { message?: unknown })?.message !== 'string');
  if (bad !== undefined) problems.push(`a detail is not {path, message}: ${JSON.stringify(bad).slice(0, 200)}`);
  const type = rest.type as string;
  if (!(type in ERROR_STATUS)) problems.push(`type ${JSON.stringify(type)} is not a key of ERROR_STATUS`);
  else if (ERROR_STATUS[type as ErrorType] !== res.status) problems.push(`type ${type} is ${ERROR_STATUS[type as ErrorType]} in ERROR_STATUS, answered ${res.status}`);
  if (res.status >= 500 && ALLOWED_5XX[type as ErrorType] === undefined && !ALLOWED_500.some((allowed) => allowed.matches(req, res, body))) {
    problems.push(`${res.status} ${type}: ${rest.message.slice(0, 300)}`);
  }
  return problems;
}

/**
 * Failure classes still open while other work on issue 14 lands, tolerated so the suite stays useful meanwhile.
 * TODO(issue 14, lead): remove this list at integration; every entry names the item that fixes it.
 */
export interface KnownOpen {
  id: string;
  todo: string;
  matches(req: FuzzRequest, res: FuzzResponse, problems: string[]): boolean;
}

const KNOWN_OPEN: KnownOpen[] = [
  {
    // Documented in docs/errors.md: the headers timeout fires with no rawPacket (Node keeps the partial request line to
    // itself), so the path is unknown and even a /v2 request gets the REST body.
    // Repro: printf 'GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: 1' | nc HOST PORT
    id: 'v2-headers-timeout-rest-body',
    todo: 'documented exception (docs/errors.md): a 408 for unfinished headers has the REST body even under /v2',
    matches: (req, res, problems) =>
      req.raw === true && isV2Path(req.path) && res.status === 408 && problems.every((problem) => problem.startsWith('a /v2 error body must be')),
  },
];

export interface Verdict {
  problems: string[];
  /** The known-open class that covers every problem, if one does. */
  tolerated?: KnownOpen;
}

/** Judges an answer; `extra` are problems seen around it (an uncaught exception while it was served). */
export function judge(req: FuzzRequest, res: FuzzResponse, extra: string[] = []): Verdict {
  const problems = [...problemsOf(req, res), ...extra];
  if (problems.length === 0) return { problems };
  const tolerated = KNOWN_OPEN.find((known) => known.matches(req, res, problems));
  return tolerated ? { problems, tolerated } : { problems };
}

/** A short key grouping failures of one kind (status, type or message head, route). */
export function failureClass(req: FuzzRequest & { route?: { method: string; template: string } }, res: FuzzResponse | undefined, problems: string[]): string {
  const route = req.route ? `${req.route.method} ${req.route.template}` : `${req.method} ${req.path.slice(0, 40)}`;
  const head = (problems[0] ?? '').replace(/\d+(\.\d+)?(e[+-]?\d+)?/g, 'N').slice(0, 90);
  return `${res?.status ?? 'no answer'} | ${route} | ${head}`;
}
