/**
 * The `Server-Timing` response header (W3C Server Timing) as `longshore bench` reads it: entries in longshore's agreed
 * format (`decode;dur=0.041, queue;dur=0.120, model;dur=0.530, encode;dur=0.022, batch;desc="id=17 size=8",
 * total;dur=0.750`), and their averages over a run. Pure functions, no I/O.
 */

/** One entry of the header: its name, `dur` in milliseconds, `desc` when given. */
export interface TimingEntry {
  readonly name: string;
  readonly dur?: number;
  readonly desc?: string;
}

/** The timing entries longshore sends, in milliseconds, and the batch's rows. */
export interface RequestTiming {
  readonly decode?: number;
  readonly queue?: number;
  readonly model?: number;
  readonly encode?: number;
  readonly total?: number;
  readonly batchSize?: number;
}

/** Splits on `separator` outside double quotes. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '\\' && quoted && i + 1 < text.length) {
      current += char + (text[++i] as string);
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) return trimmed.slice(1, -1).replace(/\\(.)/g, '$1');
  return trimmed;
}

/** Every entry of a Server-Timing header (several headers joined with `,` read the same); malformed parts are skipped. */
export function parseServerTiming(header: string | readonly string[] | undefined): TimingEntry[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(',');
  const entries: TimingEntry[] = [];
  for (const part of splitOutsideQuotes(text, ',')) {
    const [rawName = '', ...params] = splitOutsideQuotes(part, ';');
    const name = rawName.trim();
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) continue;
    let dur: number | undefined;
    let desc: string | undefined;
    for (const param of params) {
      const at = param.indexOf('=');
      const key = (at < 0 ? param : param.slice(0, at)).trim().toLowerCase();
      const value = at < 0 ? '' : unquote(param.slice(at + 1));
      // The spec: only the first occurrence of a parameter counts.
      if (key === 'dur' && dur === undefined) {
        const number = Number(value);
        if (value !== '' && Number.isFinite(number)) dur = number;
      } else if (key === 'desc' && desc === undefined) {
        desc = value;
      }
    }
    entries.push({ name, ...(dur === undefined ? {} : { dur }), ...(desc === undefined ? {} : { desc }) });
  }
  return entries;
}

/** longshore's entries of one response; undefined when the header carries none of them (an older server). */
export function requestTiming(header: string | readonly string[] | undefined): RequestTiming | undefined {
  const timing: { -readonly [K in keyof RequestTiming]: number } = {};
  for (const entry of parseServerTiming(header)) {
    if (entry.name === 'batch') {
      const size = /(?:^|\s)size=(\d+)(?:\s|$)/.exec(entry.desc ?? '')?.[1];
      if (size !== undefined && timing.batchSize === undefined) timing.batchSize = Number(size);
    } else if ((entry.name === 'decode' || entry.name === 'queue' || entry.name === 'model' || entry.name === 'encode' || entry.name === 'total') && entry.dur !== undefined) {
      timing[entry.name] ??= entry.dur;
    }
  }
  return Object.keys(timing).length === 0 ? undefined : timing;
}

type TimingKey = keyof RequestTiming;

/** TimingAverages as plain data (structured-clone safe). */
export interface TimingParts {
  readonly responses: number;
  readonly sums: readonly (readonly [TimingKey, number])[];
  readonly counts: readonly (readonly [TimingKey, number])[];
}
const KEYS: readonly TimingKey[] = ['decode', 'queue', 'model', 'encode', 'total', 'batchSize'];

/** Sums of each entry over the responses that had it; `mean()` gives the averages (undefined for an entry never seen). */
export class TimingAverages {
  readonly #sums = new Map<TimingKey, number>();
  readonly #counts = new Map<TimingKey, number>();
  #responses = 0;

  add(timing: RequestTiming | undefined): void {
    if (!timing) return;
    this.#responses++;
    for (const key of KEYS) {
      const value = timing[key];
      if (value === undefined) continue;
      this.#sums.set(key, (this.#sums.get(key) ?? 0) + value);
      this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    }
  }

  /** Responses that carried longshore's timing entries. */
  get responses(): number {
    return this.#responses;
  }

  /** The sums and counts, to send between threads (load-thread.ts). */
  toParts(): TimingParts {
    return { responses: this.#responses, sums: [...this.#sums], counts: [...this.#counts] };
  }

  static fromParts(parts: TimingParts): TimingAverages {
    const averages = new TimingAverages();
    averages.#responses = parts.responses;
    for (const [key, sum] of parts.sums) averages.#sums.set(key, sum);
    for (const [key, count] of parts.counts) averages.#counts.set(key, count);
    return averages;
  }

  mean(): RequestTiming {
    const mean: { -readonly [K in keyof RequestTiming]: number } = {};
    for (const key of KEYS) {
      const count = this.#counts.get(key) ?? 0;
      if (count > 0) mean[key] = (this.#sums.get(key) ?? 0) / count;
    }
    return mean;
  }
}
