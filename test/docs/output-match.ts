/**
 * Compares what a doc says a command prints with what it printed.
 *
 * JSON (the doc's output starts with `{` or `[`): compared structurally, key order ignored.
 * - Numbers: a number the doc writes with decimals matches when it differs from the actual one by at most half a unit
 *   of its last written digit (`0.98` matches 0.9815…), or by 2e-7 of its value when it is written with more digits
 *   (about two float32 ulps: the same graph run on another CPU may differ in the last bits, while a different
 *   computation, such as a row run in a batch instead of alone, differs by more). A number written without decimals
 *   or exponent must be equal.
 * - Volatile values: `"..."` as a value matches any value; a bare `...` among the members of an object allows fields
 *   the doc leaves out (`{...}` is any object), and as the last element of an array allows more elements (`[...]` is
 *   any array). The fields named in
 *   VOLATILE_FIELDS (ids, times, durations) match any value of the same JSON type, whatever the doc shows.
 * Text: line by line, trailing spaces and surrounding blank lines ignored; a line that is only `...` matches any number
 * of lines, and `...` inside a line matches any text.
 * `curl -i` output (starting with `HTTP/`): the status line as text, each header line the doc lists must be present
 * (name case-insensitive), then the body as above.
 */
import { DocJsonError, parseDocJson, type DocValue } from './doc-json.ts';

const VOLATILE_FIELDS = new Set(['request_id', 'prediction_id', 'timestamp', 'time', 'duration_ms', 'latency_us']);
const RELATIVE_TOLERANCE = 2e-7;

/** The problems found, as readable lines; empty when the output matches. */
export function compareOutput(expected: string, actual: string): string[] {
  const doc = trimBlank(expected.split('\n'));
  const got = trimBlank(actual.split('\n'));
  if (doc[0]?.startsWith('HTTP/')) return compareHttp(doc, got);
  return compareBody(doc.join('\n'), got.join('\n'));
}

function trimBlank(lines: string[]): string[] {
  const trimmed = lines.map((line) => line.trimEnd());
  while (trimmed.length > 0 && trimmed[0] === '') trimmed.shift();
  while (trimmed.length > 0 && trimmed.at(-1) === '') trimmed.pop();
  return trimmed;
}

function compareBody(expected: string, actual: string): string[] {
  const first = expected.trimStart()[0];
  const lines = (text: string): string[] => (text === '' ? [] : text.split('\n'));
  if (first !== '{' && first !== '[') return compareText(lines(expected), lines(actual));
  let doc: DocValue;
  try {
    doc = parseDocJson(expected);
  } catch (error) {
    if (error instanceof DocJsonError) return [error.message];
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(actual);
  } catch {
    return ['the doc shows JSON, but the output is not JSON'];
  }
  const problems: string[] = [];
  compareJson(doc, value, '', problems);
  return problems;
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Half a unit of the last digit written, e.g. `0.98` → 0.005, `1.5e-8` → 5e-10; 0 for an integer. */
function writtenPrecision(text: string): number {
  const match = /^-?\d+(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[1] === undefined && match[2] === undefined)) return 0;
  return 0.5 * 10 ** (-(match[1]?.length ?? 0) + Number(match[2] ?? 0));
}

function compareJson(doc: DocValue, actual: unknown, path: string, problems: string[]): void {
  const where = path === '' ? '/' : path;
  switch (doc.kind) {
    case 'any':
      return;
    case 'number': {
      if (typeof actual !== 'number') return void problems.push(`${where}: the doc says ${doc.text}, got ${show(actual)}`);
      const tolerance = writtenPrecision(doc.text) === 0 ? 0 : Math.max(writtenPrecision(doc.text), RELATIVE_TOLERANCE * Math.abs(doc.value));
      if (Math.abs(actual - doc.value) > tolerance) {
        problems.push(`${where}: the doc says ${doc.text}, got ${actual}${tolerance > 0 ? ` (tolerance ±${tolerance.toPrecision(2)})` : ''}`);
      }
      return;
    }
    case 'literal':
      if (actual !== doc.value) problems.push(`${where}: the doc says ${show(doc.value)}, got ${show(actual)}`);
      return;
    case 'array': {
      if (!Array.isArray(actual)) return void problems.push(`${where}: the doc shows an array, got ${show(actual)}`);
      if (actual.length < doc.items.length || (!doc.open && actual.length > doc.items.length)) {
        problems.push(`${where}: the doc shows ${doc.items.length}${doc.open ? ' or more' : ''} elements, got ${actual.length}`);
      }
      doc.items.forEach((item, index) => {
        if (index < actual.length) compareJson(item, actual[index], `${path}/${index}`, problems);
      });
      return;
    }
    case 'object': {
      if (typeOf(actual) !== 'object') return void problems.push(`${where}: the doc shows an object, got ${show(actual)}`);
      const record = actual as Record<string, unknown>;
      for (const [key, value] of doc.members) {
        const at = `${path}/${key}`;
        if (!(key in record)) problems.push(`${at}: in the doc, missing from the output`);
        else if (VOLATILE_FIELDS.has(key) && value.kind !== 'object' && value.kind !== 'array') {
          const docType = value.kind === 'number' ? 'number' : value.kind === 'literal' ? typeOf(value.value) : typeOf(record[key]);
          if (typeOf(record[key]) !== docType) problems.push(`${at}: the doc shows a ${docType}, got ${show(record[key])}`);
        } else compareJson(value, record[key], at, problems);
      }
      if (!doc.open) {
        const documented = new Set(doc.members.map(([key]) => key));
        for (const key of Object.keys(record).filter((name) => !documented.has(name))) {
          problems.push(`${path}/${key}: in the output (${show(record[key])}), not in the doc (add it, or write ... in the object to allow more fields)`);
        }
      }
    }
  }
}

/** `...` inside a line matches any text; the rest literally. */
function linePattern(line: string): RegExp {
  return new RegExp(`^${line.split('...').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
}

/** One pattern per expected line, compiled once; undefined for a line that is only `...` (any number of lines). */
function linePatterns(expected: string[]): (RegExp | undefined)[] {
  return expected.map((line) => (line === '...' ? undefined : linePattern(line)));
}

function textMatches(expected: string[], actual: string[]): boolean {
  const patterns = linePatterns(expected);
  // matched[i][j]: expected[i..] matches actual[j..]
  const matched: boolean[][] = Array.from({ length: expected.length + 1 }, () => new Array<boolean>(actual.length + 1).fill(false));
  matched[expected.length]![actual.length] = true;
  for (let i = expected.length - 1; i >= 0; i--) {
    const pattern = patterns[i];
    for (let j = actual.length; j >= 0; j--) {
      matched[i]![j] = pattern
        ? j < actual.length && pattern.test(actual[j]!) && matched[i + 1]![j + 1]!
        : matched[i + 1]![j]! || (j < actual.length && matched[i]![j + 1]!);
    }
  }
  return matched[0]![0]!;
}

function compareText(expected: string[], actual: string[]): string[] {
  if (textMatches(expected, actual)) return [];
  return ['the output differs (- the doc, + the output):', ...lineDiff(expected, actual)];
}

/** A line diff (longest common subsequence, lines matched with `...` wildcards). */
function lineDiff(expected: string[], actual: string[]): string[] {
  const patterns = linePatterns(expected);
  const same = (i: number, j: number): boolean => patterns[i]?.test(actual[j]!) ?? true;
  const lcs: number[][] = Array.from({ length: expected.length + 1 }, () => new Array<number>(actual.length + 1).fill(0));
  for (let i = expected.length - 1; i >= 0; i--) {
    for (let j = actual.length - 1; j >= 0; j--) {
      lcs[i]![j] = same(i, j) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < expected.length || j < actual.length) {
    if (i < expected.length && j < actual.length && same(i, j)) {
      out.push(`  ${actual[j]}`);
      i++;
      j++;
    } else if (j < actual.length && (i >= expected.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) out.push(`+ ${actual[j++]}`);
    else out.push(`- ${expected[i++]}`);
  }
  return out;
}

function compareHttp(expected: string[], actual: string[]): string[] {
  const split = (lines: string[]): { head: string[]; body: string } => {
    const blank = lines.indexOf('');
    return blank === -1 ? { head: lines, body: '' } : { head: lines.slice(0, blank), body: lines.slice(blank + 1).join('\n') };
  };
  const doc = split(expected);
  const got = split(actual);
  const problems: string[] = [];
  if (!linePattern(doc.head[0]!).test(got.head[0] ?? '')) problems.push(`status line: the doc says "${doc.head[0]}", got "${got.head[0]}"`);
  for (const header of doc.head.slice(1)) {
    const [name = '', ...rest] = header.split(':');
    const value = linePattern(rest.join(':').trim());
    const found = got.head.slice(1).some((line) => {
      const colon = line.indexOf(':');
      return line.slice(0, colon).toLowerCase() === name.trim().toLowerCase() && value.test(line.slice(colon + 1).trim());
    });
    if (!found) problems.push(`header "${header}" is not in the response (headers: ${got.head.slice(1).join('; ')})`);
  }
  return [...problems, ...compareBody(doc.body, got.body)];
}
