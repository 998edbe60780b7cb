/**
 * A doc's `curl` command run with fetch, so checking the docs does not depend on curl being installed: the options
 * the docs use are parsed (method, headers, data, include) and sent as curl would send them, with the URL's origin
 * replaced by the test server's. An option it does not know is an error, never ignored.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface CurlRequest {
  method: string;
  /** Path and query of the URL, e.g. `/api/models?x=1`. */
  path: string;
  /** The origin the doc wrote (`http://127.0.0.1:8000`), so it can stand in for the real one in the output. */
  origin: string;
  headers: [string, string][];
  body?: Buffer;
  /** `-i`: print the status line and headers before the body. */
  include: boolean;
}

const BOOLEAN_FLAGS: Record<string, 'silent' | 'include'> = { s: 'silent', S: 'silent', i: 'include' };
const LONG_BOOLEANS: Record<string, 'silent' | 'include'> = { '--silent': 'silent', '--show-error': 'silent', '--include': 'include' };
const DATA_OPTIONS = new Set(['-d', '--data', '--data-ascii', '--data-raw', '--data-binary', '--json']);

/** Reads a `-d` value as curl does: `@file` is read (CR and LF stripped, except for --data-binary). */
function dataValue(option: string, value: string, cwd: string): Buffer {
  if (option === '--data-raw' || !value.startsWith('@')) return Buffer.from(value);
  const content = readFileSync(resolve(cwd, value.slice(1)));
  return option === '--data-binary' ? content : Buffer.from(content.toString('utf8').replace(/[\r\n]/g, ''));
}

/** Parses `argv` (starting with `curl`); `cwd` resolves `@file` data. Throws on anything it cannot send faithfully. */
export function parseCurl(argv: readonly string[], cwd: string): CurlRequest {
  let method: string | undefined;
  let url: string | undefined;
  let include = false;
  let json = false;
  const headers: [string, string][] = [];
  const data: Buffer[] = [];
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new Error(`curl option ${arg} needs a value`);
      return next;
    };
    if (arg === '-X' || arg === '--request') method = value();
    else if (arg === '-H' || arg === '--header') {
      const header = value();
      const colon = header.indexOf(':');
      if (colon <= 0) throw new Error(`curl header without a colon: ${header}`);
      headers.push([header.slice(0, colon).trim(), header.slice(colon + 1).trim()]);
    } else if (DATA_OPTIONS.has(arg)) {
      data.push(dataValue(arg, value(), cwd));
      if (arg === '--json') json = true;
    } else if (LONG_BOOLEANS[arg]) include ||= LONG_BOOLEANS[arg] === 'include';
    else if (/^-[A-Za-z]+$/.test(arg) && [...arg.slice(1)].every((flag) => BOOLEAN_FLAGS[flag])) {
      include ||= arg.includes('i');
    } else if (arg.startsWith('-')) throw new Error(`curl option ${arg} is not supported by the doc checker (test/docs/curl-command.ts)`);
    else if (url !== undefined) throw new Error(`curl with two URLs: ${url} and ${arg}`);
    else url = arg;
  }
  if (url === undefined) throw new Error('curl without a URL');
  const parsed = new URL(/^https?:\/\//.test(url) ? url : `http://${url}`);
  const has = (name: string): boolean => headers.some(([key]) => key.toLowerCase() === name);
  if (data.length > 0 && json) {
    if (!has('content-type')) headers.push(['Content-Type', 'application/json']);
    if (!has('accept')) headers.push(['Accept', 'application/json']);
  }
  if (data.length > 0 && !has('content-type')) headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
  const body = data.length === 0 ? undefined : Buffer.concat(data.flatMap((part, index) => (index === 0 ? [part] : [Buffer.from('&'), part])));
  return {
    method: method ?? (body ? 'POST' : 'GET'),
    path: `${parsed.pathname}${parsed.search}`,
    origin: parsed.origin,
    headers,
    body,
    include,
  };
}

/** Sends `request` to `baseUrl` and returns what curl would print, the doc's origin standing in for the real one. */
export async function runCurl(request: CurlRequest, baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body === undefined ? undefined : new Uint8Array(request.body),
    redirect: 'manual',
  });
  const body = (await response.text()).replaceAll(baseUrl, request.origin);
  if (!request.include) return body;
  const head = [`HTTP/1.1 ${response.status} ${response.statusText}`];
  response.headers.forEach((value, name) => head.push(`${name}: ${value.replaceAll(baseUrl, request.origin)}`));
  return `${head.join('\n')}\n\n${body}`;
}
