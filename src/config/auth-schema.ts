/**
 * The `auth:` section of `longshore.yaml` (part of the one schema in schema.ts) and the reading of its keys. A key is
 * never written in the YAML: each entry names an environment variable or a file holding it. load.ts reads them once,
 * at load, and keeps only their SHA-256 digests (docs/security.md); a missing variable or unreadable file is a
 * ConfigError naming the entry.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { ErrorDetail } from '../errors.js';
import type { KeyPath } from './problems.js';

/** What a key may do: call models, read what is served, scrape metrics, and (later) manage the model repository. */
export const AUTH_SCOPES = ['predict', 'read', 'metrics', 'admin'] as const;
export type AuthScope = (typeof AUTH_SCOPES)[number];

const Scopes = Type.Array(
  Type.Union(AUTH_SCOPES.map((scope) => Type.Literal(scope))),
  {
    minItems: 1,
    uniqueItems: true,
    description:
      'What the key may do: `predict` (model calls), `read` (model list and metadata, OpenAPI, /docs), `metrics` (/metrics), ' +
      '`admin` (the model repository API: index, load, unload, with server.repository_api).',
  },
);

export const AuthKeySchema = Type.Union([
  Type.Object(
    {
      env: Type.String({ minLength: 1, description: 'Environment variable holding the key (read once, at startup).' }),
      scopes: Scopes,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      file: Type.String({
        minLength: 1,
        description: 'File holding the key (relative to the config file), e.g. a Docker or Kubernetes secret; surrounding whitespace is trimmed.',
      }),
      scopes: Scopes,
    },
    { additionalProperties: false },
  ),
]);

export const AuthSchema = Type.Object(
  {
    keys: Type.Array(AuthKeySchema, {
      minItems: 1,
      description:
        'The API keys clients send as `Authorization: Bearer <key>` or `x-api-key: <key>`, each `{env: VAR, scopes: [...]}` or ' +
        '`{file: path, scopes: [...]}`. Keys are never written in this file. Without an `auth:` section, every route is open.',
    }),
    open_health: Type.Boolean({
      default: true,
      description: 'Leave the health probes (/api/health*, /v2/health/*) open. false: they need a key with the `read` scope.',
    }),
    open_docs: Type.Boolean({
      default: false,
      description:
        'Leave the API docs open: /docs (Swagger UI and its assets), /openapi.json and the / redirect, so a plain browser can ' +
        'load the page and use its Authorize button. They list the models and their schemas. false: they need a key with `read`.',
    }),
  },
  { additionalProperties: false, description: 'API keys and scopes (docs/security.md). Absent: no authentication.' },
);

export type AuthConfig = Static<typeof AuthSchema>;

/** A key as the server keeps it: where it came from (for messages) and the hex SHA-256 of its value, never the value. */
export interface ResolvedAuthKey {
  /** `env LONGSHORE_KEY` or `file /run/secrets/admin`. */
  readonly source: string;
  readonly scopes: readonly AuthScope[];
  readonly digest: string;
}

/** `auth:` as the rest of longshore reads it. */
export interface ResolvedAuth {
  readonly open_health: boolean;
  readonly open_docs: boolean;
  readonly keys: readonly ResolvedAuthKey[];
}

/** SHA-256 of a key, the form it is compared in (equal length whatever the key's, so timingSafeEqual applies). */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * Reads every key of a validated `auth:` section: the variables from `env`, the files relative to `dir`. Returns the
 * resolved section, or the problems (one per key that could not be read, naming its entry).
 */
export function resolveAuth(
  auth: AuthConfig,
  env: Readonly<Record<string, string | undefined>>,
  dir: string,
  problem: (path: KeyPath, message: string) => ErrorDetail,
): { auth: ResolvedAuth; problems: [] } | { auth: undefined; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const keys: ResolvedAuthKey[] = [];
  auth.keys.forEach((entry, index) => {
    let value: string | undefined;
    let source: string;
    if ('env' in entry) {
      source = `env ${entry.env}`;
      value = env[entry.env];
      if (value === undefined) problems.push(problem(['auth', 'keys', index, 'env'], `environment variable ${entry.env} is not set`));
    } else {
      const file = resolve(dir, entry.file);
      source = `file ${file}`;
      try {
        value = readFileSync(file, 'utf8');
      } catch (error) {
        problems.push(problem(['auth', 'keys', index, 'file'], `cannot read the key file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
      }
    }
    if (value === undefined) return;
    const key = value.trim();
    if (key === '' || /[\r\n]/.test(key)) {
      problems.push(problem(['auth', 'keys', index], `the key from ${source} is ${key === '' ? 'empty' : 'more than one line'}`));
      return;
    }
    keys.push({ source, scopes: entry.scopes, digest: keyDigest(key).toString('hex') });
  });
  return problems.length > 0 ? { auth: undefined, problems } : { auth: { open_health: auth.open_health, open_docs: auth.open_docs, keys }, problems: [] };
}
