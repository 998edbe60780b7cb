/**
 * What `longshore bench` reports: the JSON document's types, and the tables (one per model, autocannon's and wrk's
 * columns first, then where the time went) printed from it.
 */
import { machineLine, type ForeignCpu, type Machine } from './machine.js';

export const PROTOCOLS = ['rest', 'v2', 'v2-binary', 'grpc'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Where the time of an average request went; null: not known (n/a). Durations in ms. */
export interface Breakdown {
  /** `server-timing`: the responses' Server-Timing entries; `metrics`: deltas of /metrics' histograms; `none`. */
  readonly source: 'server-timing' | 'metrics' | 'none';
  readonly decodeMs: number | null;
  readonly queueMs: number | null;
  /** Rows in the batch a request ran in, on average. */
  readonly batchSize: number | null;
  /** The model call that served the request (the whole batch's). */
  readonly modelMs: number | null;
  readonly encodeMs: number | null;
  /** The server's own total, from arrival to the answer ready. */
  readonly totalMs: number | null;
  /** Mean latency − server total: the network, HTTP parsing and writing, the client. */
  readonly httpMs: number | null;
}

export interface BenchRow {
  readonly concurrency: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly durationS: number;
  readonly requestsPerSecond: number;
  readonly rowsPerSecond: number;
  readonly latencyMs: { readonly mean: number | null; readonly p50: number | null; readonly p99: number | null };
  readonly breakdown: Breakdown;
  /** Other processes' CPU during the cell (cores), null off Linux. */
  readonly foreignCpu: ForeignCpu | null;
  /** rows/s over the bare model's in-process rows/s at the batch size reached (rounded); null when not measured. */
  readonly servedVsInProcess: number | null;
  readonly problems: readonly string[];
}

/** The bare model called in-process (predictBatch, else predict per row), rows/s by batch size. */
export interface InProcessRate {
  readonly batchSize: number;
  readonly calls: number;
  readonly rowsPerSecond: number;
}

export interface ModelReport {
  readonly name: string;
  readonly protocol: Protocol;
  /** Where the request body came from (an example, generated). */
  readonly body: string | null;
  readonly rowsPerRequest: number;
  readonly rows: readonly BenchRow[];
  readonly inProcess: readonly InProcessRate[];
  /** Why the in-process rate is missing (with --url, a model it cannot call). */
  readonly inProcessNote: string | null;
  /** Why the model was not measured at all. */
  readonly skipped: string | null;
}

export interface BenchReport {
  readonly settings: {
    readonly protocol: Protocol;
    readonly concurrency: readonly number[];
    readonly durationS: number;
    readonly warmupS: number;
    readonly inProcessS: number;
    readonly url: string;
    readonly server: 'in-process' | 'remote';
  };
  readonly machine: Machine;
  readonly models: readonly ModelReport[];
}

export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  return ms.toFixed(1);
}

const rate = (perSecond: number) => Math.round(perSecond).toLocaleString('en-US');
const ratio = (value: number | null) => (value === null || !Number.isFinite(value) ? 'n/a' : `${Math.round(value * 100)}%`);

/** A markdown table with padded columns; the first column left-aligned, the others right-aligned. */
export function markdownTable(header: readonly string[], lines: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)));
  const pad = (text: string, column: number) => (column === 0 ? text.padEnd(widths[column] ?? 0) : text.padStart(widths[column] ?? 0));
  const line = (values: readonly string[]) => `| ${values.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...lines.map(line)].join('\n');
}

const HEADER = ['c', 'req/s', 'rows/s', 'p50 ms', 'p99 ms', 'decode', 'queue', 'batch', 'model', 'encode', 'HTTP', 'other CPU', 'served / in-process'];

function modelTable(model: ModelReport): string {
  const title = `${model.name} (${model.protocol}; body: ${model.body ?? 'none'}; ${model.rowsPerRequest} row(s) per request)`;
  if (model.skipped !== null) return `${title}\n  not measured: ${model.skipped}`;
  const lines = model.rows.map((row) => [
    `${row.concurrency}${row.problems.length > 0 ? ' ⚠' : ''}`,
    rate(row.requestsPerSecond),
    rate(row.rowsPerSecond),
    formatMs(row.latencyMs.p50),
    formatMs(row.latencyMs.p99),
    formatMs(row.breakdown.decodeMs),
    formatMs(row.breakdown.queueMs),
    row.breakdown.batchSize === null ? 'n/a' : row.breakdown.batchSize.toFixed(1),
    formatMs(row.breakdown.modelMs),
    formatMs(row.breakdown.encodeMs),
    formatMs(row.breakdown.httpMs),
    row.foreignCpu === null ? 'n/a' : `${row.foreignCpu.otherCores.toFixed(2)} cores`,
    ratio(row.servedVsInProcess),
  ]);
  const sources = [...new Set(model.rows.map((row) => row.breakdown.source))];
  const inProcess =
    model.inProcess.length > 0
      ? `in-process (the bare model, no server): ${model.inProcess.map((r) => `batch ${r.batchSize}: ${rate(r.rowsPerSecond)} rows/s`).join(', ')}`
      : `in-process: n/a (${model.inProcessNote ?? 'not measured'})`;
  const problems = model.rows.flatMap((row) => row.problems.map((problem) => `  ⚠ c=${row.concurrency}: ${problem}`));
  return [title, markdownTable(HEADER, lines), `breakdown from: ${sources.join(', ')}; ${inProcess}`, ...problems].join('\n');
}

/** The whole report as text: settings, machine, one table per model. */
export function renderReport(report: BenchReport): string {
  const { settings } = report;
  return [
    `longshore bench: ${settings.protocol} against ${settings.url} (${settings.server}), ${settings.durationS} s per concurrency after ${settings.warmupS} s of warm-up; durations in ms, averages per request`,
    machineLine(report.machine),
    '',
    ...report.models.flatMap((model) => [modelTable(model), '']),
  ].join('\n');
}
