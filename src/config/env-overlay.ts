/**
 * The environment overlay: any key of a config section can be set by a variable `LONGSHORE_<SECTION>__<KEY>`, a
 * double underscore between levels (`LONGSHORE_SERVER__BODY_LIMIT_BYTES=2000000`,
 * `LONGSHORE_MONITORING__DESTINATION__TYPE=stdout`). Values are read as YAML (`false`, `5000`, `[a, b]`, `{k: v}`);
 * a key whose schema takes only strings keeps the text as written. The overlay goes over the file before validation,
 * so the same schema checks it; a problem with a value names its variable instead of a line of the file.
 *
 * Not overlaid: `models` (a list: entries come from the file, --model or --model-dir), the top-level scalars
 * (service_title, description, version: they have no section), and the variables without a double underscore, such as
 * the CLI's LONGSHORE_CONFIG, LONGSHORE_HOST, LONGSHORE_PORT, LONGSHORE_PROCESSES, LONGSHORE_LOG_LEVEL and
 * LONGSHORE_LOG_FORMAT, which keep their meaning (they stand for command-line flags and win over the overlay).
 */
import { parse as parseYaml } from 'yaml';
import { formatKeyPath } from './problems.js';

export const ENV_PREFIX = 'LONGSHORE_';
export const ENV_SEPARATOR = '__';

/** The environment as the loader reads it (process.env, or a plain object in tests). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** One key set by one variable. */
export interface EnvSetting {
  readonly variable: string;
  readonly path: readonly string[];
  readonly value: unknown;
}

export interface EnvProblem {
  readonly variable: string;
  readonly message: string;
}

export interface EnvOverlay {
  readonly settings: readonly EnvSetting[];
  readonly problems: readonly EnvProblem[];
}

/** The parts of a JSON Schema the overlay reads. */
interface SchemaNode {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly patternProperties?: Readonly<Record<string, SchemaNode>>;
  readonly anyOf?: readonly SchemaNode[];
}

/** The structural variables of `env` (LONGSHORE_ and a double underscore), checked against `schema` (ConfigSchema). */
export function readEnvOverlay(env: Environment, schema: object): EnvOverlay {
  const settings: EnvSetting[] = [];
  const problems: EnvProblem[] = [];
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && name.slice(ENV_PREFIX.length).includes(ENV_SEPARATOR))
    .sort();
  for (const variable of names) {
    const text = env[variable];
    if (text === undefined) continue;
    const target = keyOf(variable, schema as SchemaNode);
    if ('problem' in target) {
      problems.push({ variable, message: target.problem });
      continue;
    }
    const value = readValue(text, target.schema);
    if ('problem' in value) problems.push({ variable, message: value.problem });
    else settings.push({ variable, path: target.path, value: value.value });
  }
  // A variable for a mapping first, then those for keys inside it, which refine it.
  settings.sort((a, b) => a.path.length - b.path.length);
  return { settings, problems };
}

/** Sets each setting's key in `raw` (the parsed file), making the mappings on its way when the file has none. */
export function applyEnvOverlay(raw: Record<string, unknown>, settings: readonly EnvSetting[]): void {
  for (const { path, value } of settings) {
    let node: Record<string, unknown> = raw;
    let reachable = true;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined || next === null) node[key] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) {
        // The file's own value is of the wrong type: the schema reports it at its line.
        reachable = false;
        break;
      }
      node = node[key] as Record<string, unknown>;
    }
    if (reachable) node[path[path.length - 1] as string] = value;
  }
}

/** The key path a variable names, and its schema; or why it names none. */
function keyOf(variable: string, root: SchemaNode): { path: string[]; schema: SchemaNode } | { problem: string } {
  const segments = variable.slice(ENV_PREFIX.length).toLowerCase().split(ENV_SEPARATOR);
  const path: string[] = [];
  let node = root;
  for (const segment of segments) {
    const where = path.length === 0 ? 'the config' : formatKeyPath(path);
    if (path.length === 0 && segment === 'models') {
      return { problem: 'models are not set from the environment: list them in the config file, or pass --model or --model-dir' };
    }
    const properties = node.properties;
    const pattern = node.patternProperties ? Object.values(node.patternProperties)[0] : undefined;
    if (properties !== undefined) {
      const child = properties[segment];
      const keys = Object.keys(properties).filter((key) => path.length > 0 || isSection(properties[key]));
      if (child === undefined || (path.length === 0 && !isSection(child))) {
        return { problem: `${where} has no ${path.length === 0 ? 'section' : 'key'} '${segment}'${nearKeys(segment, keys, path)}` };
      }
      node = child;
    } else if (pattern !== undefined) {
      node = pattern;
    } else {
      return { problem: `${where} is not a mapping, so it has no key '${segment}'` };
    }
    path.push(segment);
  }
  return { path, schema: node };
}

/** A top-level key that is a mapping of keys (server, logging, ...), as opposed to service_title or models. */
function isSection(schema: SchemaNode | undefined): boolean {
  return schema?.type === 'object' && schema.properties !== undefined;
}

/** `; did you mean LONGSHORE_...?` for the keys close to `segment`, then every key of the level. */
function nearKeys(segment: string, keys: readonly string[], path: readonly string[]): string {
  const near = keys
    .map((key) => ({ key, distance: editDistance(segment, key) }))
    .filter(({ key, distance }) => distance <= Math.max(2, Math.floor(key.length / 3)) || key.includes(segment) || segment.includes(key))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3)
    .map(({ key }) => variableFor([...path, key]));
  const guess = near.length > 0 ? `; did you mean ${near.join(' or ')}?` : '';
  return `${guess} (${path.length === 0 ? 'sections' : 'keys'}: ${keys.join(', ')})`;
}

/** The variable that sets `path`: `['server', 'port']` → `LONGSHORE_SERVER__PORT`. */
export function variableFor(path: readonly string[]): string {
  return `${ENV_PREFIX}${path.map((key) => key.toUpperCase()).join(ENV_SEPARATOR)}`;
}

/** The variable's text as YAML; the text itself for a key that takes a string and not what the YAML reading gave. */
function readValue(text: string, schema: SchemaNode): { value: unknown } | { problem: string } {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    return { problem: `is not a valid YAML value: ${(error as Error).message.split('\n')[0]}` };
  }
  if (typeof value === 'string' || (typeof value === 'object' && value !== null)) return { value };
  const types = typesOf(schema);
  const accepted =
    (typeof value === 'number' && (types.has('number') || (types.has('integer') && Number.isInteger(value)))) ||
    (typeof value === 'boolean' && types.has('boolean')) ||
    (value === null && types.has('null'));
  return { value: !accepted && types.has('string') ? text : value };
}

function typesOf(schema: SchemaNode): Set<string> {
  const types = new Set<string>();
  if (schema.type !== undefined) types.add(schema.type);
  for (const option of schema.anyOf ?? []) for (const type of typesOf(option)) types.add(type);
  return types;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
