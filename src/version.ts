/**
 * longshore's own version, read once from its package.json, so `GET /v2`, `--version` and the package agree.
 */
import { readFileSync } from 'node:fs';

export const LONGSHORE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
