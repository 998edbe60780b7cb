/** docs/errors.md's error table (`| Type | Status | ...`), read by the docs test and by the fuzzer's judge. */

/** Splits a Markdown table row into trimmed cells: `| a | b |` → ['a', 'b']. */
function cells(line: string): string[] {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((cell) => cell.trim());
}

export interface TableRow {
  readonly line: string;
  readonly cells: readonly string[];
}

/** The rows of the first table whose header starts with `| Type | Status |`; undefined when there is no such table. */
export function errorTableRows(markdown: string): TableRow[] | undefined {
  const lines = markdown.split('\n');
  const header = lines.findIndex((line) => /^\|\s*Type\s*\|\s*Status\s*\|/.test(line));
  if (header === -1) return undefined;
  const rows: TableRow[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.trim().startsWith('|')) break;
    rows.push({ line, cells: cells(line) });
  }
  return rows;
}
