/** The results table in markdown: one row per scenario and concurrency, ratios against the floor and in-process. */

export interface Row {
  readonly scenario: string;
  readonly concurrency: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** req/s over the floor's req/s at the same concurrency; undefined where it does not apply. */
  readonly vsFloor?: number;
  /** Rows (records) per second, where a request carries more than one. */
  readonly rowsPerSecond?: number;
  /** Served rows/s over the in-process session.run rows/s of the same model at the same batch size. */
  readonly servedVsInProcess?: number;
  /** Marked with a warning sign when the cell had non-2xx responses or errors. */
  readonly problems?: readonly string[];
}

const HEADER = ['Scenario', 'Concurrency', 'req/s', 'rows/s', 'p50 ms', 'p99 ms', 'vs floor (same c)', 'served / in-process'];
const LEFT_ALIGNED: ReadonlySet<number> = new Set([0]);

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  return ms.toFixed(1);
}

export function formatRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

function formatRatio(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? '—' : `${Math.round(ratio * 100)}%`;
}

/** A markdown table with padded columns: the `leftAligned` columns (by index) left-aligned, the others right-aligned. */
export function markdownTable(header: readonly string[], lines: readonly (readonly string[])[], leftAligned: ReadonlySet<number>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)));
  const pad = (text: string, column: number) => {
    const width = widths[column] ?? text.length;
    return leftAligned.has(column) ? text.padEnd(width) : text.padStart(width);
  };
  const line = (values: readonly string[]) => `| ${values.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (leftAligned.has(column) ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...lines.map(line)].join('\n');
}

export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((row) => [
    row.problems && row.problems.length > 0 ? `${row.scenario} ⚠` : row.scenario,
    row.concurrency,
    formatRate(row.requestsPerSecond),
    formatRate(row.rowsPerSecond ?? row.requestsPerSecond),
    formatMs(row.p50Ms),
    formatMs(row.p99Ms),
    formatRatio(row.vsFloor),
    formatRatio(row.servedVsInProcess),
  ]);
  return markdownTable(HEADER, cells, LEFT_ALIGNED);
}
