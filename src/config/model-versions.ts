/**
 * `versions:` and `version_policy` in a model entry of the config file. An entry with `versions:` becomes one entry per
 * version the policy keeps (`{...entry without versions/version_policy, ...item}`), each validated afterwards like any
 * other entry; the rest of longshore reads only that flat list. Problems found later in an expanded entry are pointed
 * back at the key of the file they came from (`models[0].versions[1].model_path`, or `models[0].batching` for a key the
 * versions share) by `originalPath`.
 */
import type { ErrorDetail } from '../errors.js';
import type { KeyPath, ProblemAt } from './problems.js';
import { applyVersionPolicy, readVersion, readVersionPolicy, type VersionPolicy } from './version-policy.js';

/** Keys a `versions:` item may not have: they belong to the whole entry. */
export const ENTRY_ONLY_KEYS = ['qualified_name', 'versions', 'version_policy'] as const;

/** Where an expanded entry came from: `models[index]`, or its `versions[item]`, which set `itemKeys`. */
interface Origin {
  readonly index: number;
  readonly item?: number;
  readonly itemKeys?: ReadonlySet<string>;
}

export interface VersionExpansion {
  /** The entries to validate, one per kept version (entries without `versions:` as they are, minus version_policy). */
  readonly models: unknown;
  /** Problems of `versions:` and `version_policy` themselves, at the file's own key paths. */
  readonly problems: ErrorDetail[];
  /** A key path into the expanded list (`models[3].model_path`) as the file's key path (`models[1].versions[0].model_path`). */
  originalPath(path: KeyPath): KeyPath;
}

/**
 * Expands the `models:` list of a parsed file. An entry whose `versions:` or `version_policy` has a problem is left
 * out of the list (so its problems are reported once, not again per version).
 */
export function expandModelVersions(models: unknown, problem: ProblemAt): VersionExpansion {
  if (!Array.isArray(models)) return { models, problems: [], originalPath: (path) => path };
  const expanded: unknown[] = [];
  const origins: Origin[] = [];
  const problems: ErrorDetail[] = [];
  for (const [index, entry] of (models as unknown[]).entries()) {
    if (!isMapping(entry)) {
      expanded.push(entry);
      origins.push({ index });
      continue;
    }
    const found = expandEntry(entry, ['models', index], problem);
    problems.push(...found.problems);
    for (const version of found.versions) {
      expanded.push(version.entry);
      origins.push({ index, ...(version.item === undefined ? {} : { item: version.item, itemKeys: version.itemKeys }) });
    }
  }
  const originalPath = (path: KeyPath): KeyPath => {
    const origin = path[0] === 'models' && typeof path[1] === 'number' ? origins[path[1]] : undefined;
    if (origin === undefined) return path;
    const rest = path.slice(2);
    if (origin.item === undefined) return ['models', origin.index, ...rest];
    const key = rest[0];
    const fromItem = key === undefined || key === 'version' || (typeof key === 'string' && origin.itemKeys?.has(key) === true);
    return fromItem ? ['models', origin.index, 'versions', origin.item, ...rest] : ['models', origin.index, ...rest];
  };
  return { models: expanded, problems, originalPath };
}

interface ExpandedVersion {
  readonly entry: Record<string, unknown>;
  readonly item?: number;
  readonly itemKeys?: ReadonlySet<string>;
}

/** One entry of the file (at `at`) as the entries of the versions its policy keeps. */
function expandEntry(entry: Record<string, unknown>, at: KeyPath, problem: ProblemAt): { versions: ExpandedVersion[]; problems: ErrorDetail[] } {
  const { versions, version_policy: rawPolicy, ...base } = entry;
  const problems: ErrorDetail[] = [];
  const policyRead = readVersionPolicy(rawPolicy);
  if ('problem' in policyRead) problems.push(problem([...at, 'version_policy', ...policyRead.problem.at], policyRead.problem.message));
  const policy: VersionPolicy = 'policy' in policyRead ? policyRead.policy : { kind: 'all' };

  if (versions === undefined) {
    if (policy.kind === 'specific') {
      const own = readVersion(base.version);
      const available = 'version' in own ? [own.version] : [];
      const applied = 'version' in own ? applyVersionPolicy(policy, available) : { problem: 'specific needs versions: (or the entry\'s version:) to choose from' };
      if ('problem' in applied) problems.push(problem([...at, 'version_policy', 'specific'], applied.problem));
    }
    return { versions: problems.length > 0 ? [] : [{ entry: base }], problems };
  }

  if (base.version !== undefined) {
    problems.push(problem([...at, 'version'], 'an entry with versions: has no version of its own: give each version under versions:'));
  }
  if (base.qualified_name === undefined) {
    problems.push(problem(at, "missing required key 'qualified_name': an entry with versions: needs the name its versions are served under"));
  }
  if (!Array.isArray(versions) || versions.length === 0) {
    problems.push(problem([...at, 'versions'], "must be a non-empty list of versions, each a mapping with 'version' and the keys that differ in that version (model_path, class_path, ...)"));
    return { versions: [], problems };
  }
  const items: { item: number; version: string; keys: Record<string, unknown> }[] = [];
  const seen = new Map<string, number>();
  for (const [item, value] of (versions as unknown[]).entries()) {
    const itemAt = [...at, 'versions', item];
    if (!isMapping(value)) {
      problems.push(problem(itemAt, "must be a mapping with 'version' and the keys that differ in this version (model_path, class_path, configuration, ...)"));
      continue;
    }
    for (const key of ENTRY_ONLY_KEYS) {
      if (value[key] !== undefined) problems.push(problem([...itemAt, key], `belongs to the whole entry, not to one version: move it next to versions:`));
    }
    if (value.version === undefined) {
      problems.push(problem(itemAt, "missing required key 'version'"));
      continue;
    }
    const read = readVersion(value.version);
    if ('problem' in read) {
      problems.push(problem([...itemAt, 'version'], read.problem));
      continue;
    }
    const earlier = seen.get(read.version);
    if (earlier !== undefined) {
      problems.push(problem([...itemAt, 'version'], `duplicate version '${read.version}' (also versions[${earlier}])`));
      continue;
    }
    seen.set(read.version, item);
    items.push({ item, version: read.version, keys: value });
  }
  if (problems.length > 0) return { versions: [], problems };
  const applied = applyVersionPolicy(policy, items.map((item) => item.version));
  if ('problem' in applied) {
    return { versions: [], problems: [problem([...at, 'version_policy', 'specific'], applied.problem)] };
  }
  const kept = items.filter((item) => applied.kept.has(item.version));
  return {
    versions: kept.map(({ item, version, keys }) => ({ entry: { ...base, ...keys, version }, item, itemKeys: new Set(Object.keys(keys)) })),
    problems,
  };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
