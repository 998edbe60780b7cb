/**
 * Whether the service should receive traffic, and why not: the registry's models (required ones ready, none with every
 * call slot stuck), the heap (server.max_heap_ratio), the deep check (self-tests, rate-limited), and a gate for what lies
 * beyond this process (a cluster worker waits for the other workers). Liveness is not here: a process that answers is
 * live.
 */
import { getHeapStatistics } from 'node:v8';
import type { ModelRegistry } from '../model/registry.js';

export interface ReadinessSettings {
  /** Report ready with zero models (health.ready_without_models). */
  readonly readyWithoutModels: boolean;
  /** Least time between two runs of the self-tests for the deep readiness probe (health.deep_check_interval_ms). */
  readonly deepCheckIntervalMs: number;
  /** Not ready past this share of the heap limit (server.max_heap_ratio); 0 or 1: no check. */
  readonly maxHeapRatio: number;
}

export class Readiness {
  readonly #registry: ModelRegistry;
  readonly #settings: ReadinessSettings;
  /** Problems beyond this process's own models (a cluster worker: the other workers); none by default. */
  #gate: () => string[] = () => [];
  /** What holds readiness back besides the models (the server warming its routes at start): one line each. */
  readonly #holds = new Set<string>();
  /** The last deep check: when it started and what it found (shared by the probes within the interval). */
  #deepCheck: { readonly startedAt: number; readonly problems: Promise<string[]> } | undefined;

  constructor(registry: ModelRegistry, settings: ReadinessSettings) {
    this.#registry = registry;
    this.#settings = settings;
  }

  /**
   * Makes readiness also require `gate()` to be empty. A cluster worker sets it so that it answers ready only when every
   * worker of the cluster is (src/cluster/readiness.ts).
   */
  setGate(gate: () => string[]): void {
    this.#gate = gate;
  }

  /** Holds readiness back for `reason` until the returned function is called (the server's route warmup at start). */
  hold(reason: string): () => void {
    this.#holds.add(reason);
    return () => this.#holds.delete(reason);
  }

  /** What the gate says (empty without one). */
  gateProblems(): string[] {
    return this.#gate();
  }

  /**
   * Ready: not draining, every required model ready (and not with every call slot stuck past its deadline), and the
   * heap below server.max_heap_ratio of its limit; a model with `required: false` never holds readiness back, even
   * while it loads. With no models at all, ready only if configured so. This process only: the gate is not asked.
   */
  isReady(): boolean {
    return this.problems().length === 0;
  }

  /** Why this process is not ready, one line each; empty when it is. Cheap: a loop over the models and one heap read. */
  problems(): string[] {
    const registry = this.#registry;
    if (registry.draining) return ['the server is shutting down'];
    const problems: string[] = [...this.#holds];
    const models = registry.list();
    if (models.length === 0 && !(this.#settings.readyWithoutModels && registry.startupComplete)) problems.push('no models are configured');
    for (const model of models) if (model.required && model.state !== 'ready' && model.parked === undefined) problems.push(`model '${model.name}' is ${model.state}`);
    problems.push(...this.runtimeProblems());
    return problems;
  }

  /**
   * The readiness problems of a server that runs (not of loading or shutting down): required models with every call
   * slot stuck past its deadline, and the heap past server.max_heap_ratio of its limit.
   */
  runtimeProblems(): string[] {
    const problems: string[] = [];
    for (const model of this.#registry.list()) {
      const problem = model.required && model.state === 'ready' ? model.queue?.stuckProblem() : undefined;
      if (problem !== undefined) problems.push(problem);
    }
    const heap = heapProblem(this.#settings.maxHeapRatio);
    if (heap !== undefined) problems.push(heap);
    return problems;
  }

  /**
   * The deep readiness check (`/api/health/ready?deep=true`): the usual problems, else the self-tests of every required
   * model run again, at most once per `health.deep_check_interval_ms` (a probe in between gets the last result, so
   * probes cannot flood the models). One line per failing example, naming its model; empty when all pass.
   */
  async deepProblems(): Promise<string[]> {
    const problems = this.problems();
    if (problems.length > 0) return problems;
    const now = performance.now();
    const last = this.#deepCheck;
    if (last && now - last.startedAt < this.#settings.deepCheckIntervalMs) return last.problems;
    const found = Promise.all(
      this.#registry
        .list()
        .filter((model) => model.required)
        .map(async (model) => (await model.selfTest()).map((problem) => `model '${model.name}': ${problem}`)),
    ).then((lists) => lists.flat());
    this.#deepCheck = { startedAt: now, problems: found };
    return found;
  }
}

/** The heap in use past `ratio` of the heap limit, as a readiness problem. */
function heapProblem(ratio: number): string | undefined {
  if (!(ratio > 0 && ratio < 1)) return undefined;
  const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
  if (used <= ratio * limit) return undefined;
  return (
    `the heap in use (${mebibytes(used)} MiB) is ${Math.round((used / limit) * 100)}% of its limit (${mebibytes(limit)} MiB), ` +
    `above server.max_heap_ratio ${ratio}: a model may be leaking memory`
  );
}

function mebibytes(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}
