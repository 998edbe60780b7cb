/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for the metrics tests: it throws on anything
 * Prometheus would reject or a linter would flag (bad names, bad escapes, a TYPE after samples, a family split in two,
 * duplicate series, histogram buckets that are not cumulative or lack +Inf, a +Inf bucket that differs from _count,
 * negative counters), and returns the families with their samples. Also runs promtool when it is installed.
 */
import { spawnSync } from 'node:child_process';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: string;
  help: string | undefined;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** The family a sample name belongs to, given the declared families (histogram/summary suffixes). */
function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const family = families.get(base);
    if (family && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return base;
  }
  return name;
}

function parseValue(text: string, where: string): number {
  // Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case (prom-client writes `Nan`).
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  if (special === 'nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value '${text}'`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, start: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (line[i] !== '}') {
    const nameEnd = line.indexOf('=', i);
    if (nameEnd === -1) throw new Error(`${where}: label without '='`);
    const name = line.slice(i, nameEnd);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (name in labels) throw new Error(`${where}: label '${name}' twice`);
    if (line[nameEnd + 1] !== '"') throw new Error(`${where}: label value of '${name}' is not quoted`);
    let value = '';
    let j = nameEnd + 2;
    for (;;) {
      const c = line[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const next = line[j + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`${where}: bad escape '\\${next ?? ''}' in a label value`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected ',' or '}' after label '${name}'`);
  }
  return { labels, end: i + 1 };
}

export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const enter = (name: string, where: string) => {
    if (current === name) return;
    if (closed.has(name)) throw new Error(`${where}: family ${name} appears in two places`);
    if (current !== undefined) closed.add(current);
    current = name;
  };
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const where = `line ${index + 1}`;
      if (line === '') return;
      if (line.startsWith('#')) {
        const match = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
        if (!match) return; // a plain comment
        const [, keyword, name = '', rest = ''] = match;
        if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
        enter(name, where);
        let family = families.get(name);
        if (!family) families.set(name, (family = { name, type: 'untyped', help: undefined, samples: [] }));
        if (keyword === 'TYPE') {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
          if (family.samples.length > 0) throw new Error(`${where}: TYPE of ${name} after its samples`);
          if (family.type !== 'untyped') throw new Error(`${where}: second TYPE for ${name}`);
          family.type = rest;
        } else {
          if (family.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
          if (/\\[^\\n]/.test(rest.replaceAll('\\\\', ''))) throw new Error(`${where}: bad escape in HELP`);
          family.help = rest;
        }
        return;
      }
      const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
      if (!nameMatch) throw new Error(`${where}: bad sample line '${line}'`);
      const name = nameMatch[0];
      let labels: Record<string, string> = {};
      let i = name.length;
      if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, where));
      if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
      const parts = line.slice(i + 1).split(' ');
      if (parts.length > 2 || (parts.length === 2 && !/^-?\d+$/.test(parts[1] ?? ''))) throw new Error(`${where}: bad value or timestamp`);
      const value = parseValue(parts[0] ?? '', where);
      const familyName = familyOf(name, families);
      enter(familyName, where);
      let family = families.get(familyName);
      if (!family) families.set(familyName, (family = { name: familyName, type: 'untyped', help: undefined, samples: [] }));
      const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (seen.has(series)) throw new Error(`${where}: duplicate series ${series}`);
      seen.add(series);
      if (family.type === 'counter' && !(value >= 0)) throw new Error(`${where}: counter ${name} is ${value}`);
      if (family.type === 'histogram' && name.endsWith('_bucket') && labels.le === undefined) throw new Error(`${where}: bucket without le`);
      family.samples.push({ name, labels, value });
    });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** Buckets cumulative and ending with +Inf equal to _count, per label set. */
function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { buckets: [] }));
    if (sample.name.endsWith('_bucket')) group.buckets.push([parseValue(le ?? '', family.name), sample.value]);
    else if (sample.name.endsWith('_count')) group.count = sample.value;
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if ((sorted[i]?.[1] ?? 0) < (sorted[i - 1]?.[1] ?? 0)) throw new Error(`${family.name}${key}: buckets are not cumulative`);
    }
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (inf[1] !== group.count) throw new Error(`${family.name}${key}: +Inf bucket ${inf[1]} differs from _count ${group.count}`);
  }
}

/** The value of one sample (exact label match), or undefined. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      const keys = Object.keys(sample.labels);
      if (keys.length === Object.keys(labels).length && keys.every((key) => sample.labels[key] === labels[key])) return sample.value;
    }
  }
  return undefined;
}

/** Every sample of `name` (any labels). */
export function samplesOf(families: Map<string, Family>, name: string): Sample[] {
  return [...families.values()].flatMap((family) => family.samples.filter((sample) => sample.name === name));
}

/** The distinct values a label takes over a sample name. */
export function labelValues(families: Map<string, Family>, name: string, label: string): string[] {
  return [...new Set(samplesOf(families, name).map((sample) => sample.labels[label] ?? ''))].sort();
}

/** promtool's path when installed (the prometheus package), else undefined. */
export const PROMTOOL: string | undefined = (() => {
  const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() || undefined : undefined;
})();

/** `promtool check metrics` on the text: its exit status and what it printed (problems, lint findings). */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  if (!PROMTOOL) throw new Error('promtool is not installed');
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
