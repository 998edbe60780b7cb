/**
 * The rules a JSON Schema would state only obscurely, run on what passed the schema so one run reports both: a
 * `monitoring` mapping's keys across each other, regular expressions that must compile, and the keys of `graph:` that
 * fit only some kinds. (Which keys a runtime takes is the schema's job: entry-schema.ts.)
 */
import type { ErrorDetail } from '../errors.js';
import { corsProblems, type CorsConfig } from './cors-tls-schema.js';
import type { ValidatedEntry } from './entry-schema.js';
import { GRAPH_KIND_ONLY_KEYS } from './graph-schema.js';
import type { MonitoringConfig } from './monitoring-defaults.js';
import type { KeyPath, ProblemAt } from './problems.js';

/** Problems of the server-wide sections (`monitoring`, `metrics`) of a config that passed the schema there. */
export function sectionProblems(
  raw: { monitoring?: MonitoringConfig; metrics?: { excluded_handlers?: unknown }; cors?: Partial<CorsConfig>; server?: { max_loaded_models?: unknown }; models?: unknown },
  problem: ProblemAt,
): ErrorDetail[] {
  return [
    ...monitoringProblems(raw.monitoring, ['monitoring'], problem),
    ...regexProblems(raw.metrics?.excluded_handlers, ['metrics', 'excluded_handlers'], problem),
    ...corsProblems(raw.cors, problem),
    ...loadLimitProblems(raw.server?.max_loaded_models, raw.models, problem),
  ];
}

/** server.max_loaded_models is refused with graphs: a graph holds its members loaded, which eviction cannot plan for. */
function loadLimitProblems(max: unknown, models: unknown, problem: ProblemAt): ErrorDetail[] {
  if (typeof max !== 'number' || max <= 0 || !Array.isArray(models)) return [];
  const graphs = models.filter((entry) => typeof entry === 'object' && entry !== null && 'graph' in entry);
  if (graphs.length === 0) return [];
  const names = graphs.map((entry) => `'${String((entry as { qualified_name?: unknown }).qualified_name)}'`).join(', ');
  return [problem(['server', 'max_loaded_models'], `max_loaded_models cannot be used with graphs (${names}): remove it, or serve the graphs from a server without it`)];
}

/** Problems of one model entry that passed the schema (at `models[index]`). */
export function entryProblems(entry: ValidatedEntry, index: number, problem: ProblemAt): ErrorDetail[] {
  const problems = monitoringProblems(entry.monitoring, ['models', index, 'monitoring'], problem);
  if (entry.runtime === 'module' && entry.memory_limit_mb !== undefined && entry.workers === 0) {
    problems.push(
      problem(['models', index, 'memory_limit_mb'], 'memory_limit_mb limits worker threads only: set workers (1 or more), or limit the whole process with node --max-old-space-size'),
    );
  }
  if (entry.runtime !== 'graph') return problems;
  const graph = entry.graph;
  for (const [key, kinds] of Object.entries(GRAPH_KIND_ONLY_KEYS)) {
    if ((graph as Record<string, unknown>)[key] !== undefined && !kinds.includes(graph.kind)) {
      problems.push(problem(['models', index, 'graph'], `graph.${key} applies only to kind ${kinds.join(' or ')}, not ${graph.kind}`));
    }
  }
  if (graph.kind === 'pipeline' && graph.members.length < 2) problems.push(problem(['models', index, 'graph'], 'a pipeline needs at least two members'));
  return problems;
}

/** Each pattern of a list of regular expressions must compile. */
function regexProblems(patterns: unknown, at: KeyPath, problem: ProblemAt): ErrorDetail[] {
  if (!Array.isArray(patterns)) return [];
  return patterns.flatMap((pattern: unknown, index) => {
    if (typeof pattern !== 'string') return [];
    try {
      new RegExp(pattern);
      return [];
    } catch (error) {
      return [problem([...at, index], `${JSON.stringify(pattern)} is not a valid regular expression: ${(error as Error).message}`)];
    }
  });
}

/** Rules across the keys of a `monitoring` mapping (server-wide or a model's). */
function monitoringProblems(monitoring: MonitoringConfig | undefined, at: KeyPath, problem: ProblemAt): ErrorDetail[] {
  if (typeof monitoring !== 'object' || monitoring === null) return [];
  const problems: ErrorDetail[] = [];
  if (monitoring.sample_rate !== undefined && monitoring.sample_every !== undefined) {
    problems.push(problem([...at, 'sample_every'], 'give either sample_rate (a fraction, at random) or sample_every (every Nth prediction), not both'));
  }
  const destination = monitoring.destination;
  if (destination?.type === 'file' && destination.path === undefined) {
    problems.push(problem([...at, 'destination'], "a file destination needs 'path' (the JSONL file to write)"));
  }
  if (destination?.type === 'http' && destination.url === undefined) {
    problems.push(problem([...at, 'destination'], "an http destination needs 'url' (the endpoint that receives the batches)"));
  }
  if (destination?.type === 'http' && destination.url !== undefined && !/^https?:\/\//.test(destination.url)) {
    problems.push(problem([...at, 'destination', 'url'], `must be an http:// or https:// URL, got ${JSON.stringify(destination.url)}`));
  }
  return problems;
}
