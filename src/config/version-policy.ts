/**
 * A model's `version_policy` (Triton's `version_policy`): which of its versions are served. `all` (the default),
 * `{latest: N}` (the N newest, ordered by versions.ts), or `{specific: [...]}` (exactly those, each of which must
 * exist). Used for `versions:` in the config file (model-versions.ts) and for a model repository folder
 * (model-repository.ts).
 */
import { compareVersions, sortVersions } from './versions.js';

/** A version policy as checked. */
export type VersionPolicy = { readonly kind: 'all' } | { readonly kind: 'latest'; readonly count: number } | { readonly kind: 'specific'; readonly versions: readonly string[] };

/** Versions are names in URLs (`/v2/models/{name}/versions/{version}`): the same characters as a model name. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * A version written in YAML as a string, or as a non-negative integer (`- version: 1`, Triton's habit), which is read
 * as its decimal digits. Anything else gives a message for the key.
 */
export function readVersion(value: unknown): { version: string } | { problem: string } {
  const text = typeof value === 'string' ? value : typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  if (text === undefined) {
    const hint = typeof value === 'number' ? ` (write it quoted: "${String(value)}")` : '';
    return { problem: `must be a string (or a whole number), got ${JSON.stringify(value) ?? String(value)}${hint}` };
  }
  if (!VERSION_PATTERN.test(text)) return { problem: `${JSON.stringify(text)} is not a usable version: use letters, digits, '_', '.' and '-', starting with a letter or digit` };
  return { version: text };
}

/** A problem with the policy, relative to the `version_policy` key (`[]` is the key itself). */
export interface PolicyProblem {
  readonly at: readonly (string | number)[];
  readonly message: string;
}

const POLICY_FORMS = "`all`, `{latest: N}` or `{specific: ['1', '3']}`";

/** Reads a `version_policy` value (undefined: `all`). */
export function readVersionPolicy(value: unknown): { policy: VersionPolicy } | { problem: PolicyProblem } {
  if (value === undefined || value === 'all') return { policy: { kind: 'all' } };
  const fail = (message: string, at: PolicyProblem['at'] = []) => ({ problem: { at, message } });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`must be ${POLICY_FORMS}, got ${JSON.stringify(value)}`);
  const keys = Object.keys(value);
  if (keys.length !== 1 || (keys[0] !== 'latest' && keys[0] !== 'specific')) return fail(`must have exactly one key, latest or specific (${POLICY_FORMS}); got ${keys.join(', ') || 'none'}`);
  const policy = value as { latest?: unknown; specific?: unknown };
  if (keys[0] === 'latest') {
    const count = policy.latest;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) return fail(`must be an integer of at least 1, got ${JSON.stringify(count)}`, ['latest']);
    return { policy: { kind: 'latest', count } };
  }
  const list = policy.specific;
  if (!Array.isArray(list) || list.length === 0) return fail('must be a non-empty list of versions', ['specific']);
  const versions: string[] = [];
  for (const [index, item] of list.entries()) {
    const read = readVersion(item);
    if ('problem' in read) return fail(read.problem, ['specific', index]);
    versions.push(read.version);
  }
  return { policy: { kind: 'specific', versions } };
}

/**
 * The versions of `available` the policy keeps, in the order given, or a message naming what is missing when a
 * `specific` version does not exist (with the versions that do).
 */
export function applyVersionPolicy(policy: VersionPolicy, available: readonly string[]): { kept: Set<string> } | { problem: string } {
  if (policy.kind === 'all') return { kept: new Set(available) };
  if (policy.kind === 'latest') return { kept: new Set(sortVersions(available).slice(-policy.count)) };
  const missing = policy.versions.filter((version) => !available.includes(version));
  if (missing.length > 0) {
    const exist = available.length === 0 ? 'none' : [...available].sort(compareVersions).join(', ');
    return { problem: `specific names version(s) that do not exist: ${missing.join(', ')}; the versions are: ${exist}` };
  }
  return { kept: new Set(policy.versions) };
}
