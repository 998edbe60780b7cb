/**
 * The cells of bench/batching.ts (policies, protocols, concurrencies) and what is made of them once measured: the
 * markdown table and the goal checks.
 */
import type { CellRound } from './load.ts';
import { formatMs, formatRate, markdownTable } from './table.ts';

export const POLICIES = ['off', 'timed', 'eager'] as const;
export type Policy = (typeof POLICIES)[number];

export const PROTOCOLS = ['rest', 'v2'] as const;
type Protocol = (typeof PROTOCOLS)[number];
export const PROTOCOL_LABEL: Record<Protocol, string> = { rest: 'REST JSON', v2: 'V2 binary' };

export const CONCURRENCIES = [1, 8, 32, 128] as const;

/** The goals this benchmark checks. */
const GOALS = {
  restSpeedup: 2.5,
  v2Speedup: 3,
  v2OfCeiling: 0.5,
  /** Eager's p99 at c = 1 may exceed off's by at most this fraction. */
  p99Slack: 0.1,
  atConcurrency: 128,
} as const;

export interface SessionRate {
  readonly batch: number;
  readonly runs: number;
  readonly seconds: number;
  readonly runsPerSecond: number;
  readonly medianUs: number;
  readonly p99Us: number;
}

export interface CellSpec {
  readonly protocol: Protocol;
  readonly connections: number;
  readonly policy: Policy;
}

export interface Cell extends CellSpec {
  readonly round: CellRound;
  /** 2xx responses per second over the measured run (= rows/s: one row per request). */
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** non-2xx responses + connection errors (timeouts included) in the measured run. */
  readonly failures: number;
  readonly problems: readonly string[];
  /** Average cores used by other processes during the cell (Linux only). */
  readonly otherCores?: number;
  readonly stealCores?: number;
}

function failureText(cell: Cell): string {
  if (cell.failures === 0) return '0';
  const parts = Object.entries(cell.round.statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, count]) => `${count}×${code}`);
  if (cell.round.errors > 0) parts.push(`${cell.round.errors} conn errors (${cell.round.timeouts} timeouts)`);
  return `${cell.failures} (${parts.join(', ')})`;
}

function formatFactor(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? '—' : `${ratio.toFixed(2)}×`;
}

function findCell(cells: readonly Cell[], protocol: Protocol, connections: number, policy: Policy): Cell {
  const cell = cells.find((candidate) => candidate.protocol === protocol && candidate.connections === connections && candidate.policy === policy);
  if (!cell) throw new Error(`no cell ${protocol} c=${connections} ${policy}`);
  return cell;
}

export function renderResults(cells: readonly Cell[], ceilings: readonly SessionRate[]): string {
  const header = ['Protocol', 'Concurrency', 'Policy', 'req/s', 'rows/s', 'p50 ms', 'p99 ms', 'Errors', 'vs off (same protocol, c)'];
  const lines: string[][] = [];
  for (const ceiling of ceilings) {
    lines.push([
      `in-process session.run (batch ${ceiling.batch})`,
      '1 (loop)',
      '—',
      formatRate(ceiling.runsPerSecond),
      formatRate(ceiling.runsPerSecond * ceiling.batch),
      formatMs(ceiling.medianUs / 1000),
      formatMs(ceiling.p99Us / 1000),
      '—',
      '—',
    ]);
  }
  for (const protocol of PROTOCOLS) {
    for (const connections of CONCURRENCIES) {
      const off = findCell(cells, protocol, connections, 'off');
      for (const policy of POLICIES) {
        const cell = findCell(cells, protocol, connections, policy);
        lines.push([
          cell.failures > 0 ? `${PROTOCOL_LABEL[protocol]} ⚠` : PROTOCOL_LABEL[protocol],
          String(connections),
          policy,
          formatRate(cell.requestsPerSecond),
          formatRate(cell.requestsPerSecond),
          formatMs(cell.p50Ms),
          formatMs(cell.p99Ms),
          failureText(cell),
          formatFactor(cell.requestsPerSecond / off.requestsPerSecond),
        ]);
      }
    }
  }
  return markdownTable(header, lines, new Set([0, 2, 7]));
}

interface GoalCheck {
  readonly pass: boolean;
  readonly text: string;
}

/** A check fails when its own numbers miss the goal or when one of its cells had a non-2xx response or error. */
function goal(name: string, met: boolean, numbers: string, involved: readonly Cell[]): GoalCheck {
  const failing = involved.filter((cell) => cell.failures > 0);
  const errors = failing.length > 0 ? `; ${failing.map((cell) => `${cell.policy} had ${cell.failures} failed requests`).join(', ')}` : '';
  const pass = met && failing.length === 0;
  return { pass, text: `${pass ? 'PASS' : 'FAIL'}  ${name}: ${numbers}${errors}` };
}

function bestBatched(cells: readonly Cell[], protocol: Protocol, connections: number): Cell {
  const timed = findCell(cells, protocol, connections, 'timed');
  const eager = findCell(cells, protocol, connections, 'eager');
  return eager.requestsPerSecond >= timed.requestsPerSecond ? eager : timed;
}

export function goalChecks(cells: readonly Cell[], ceiling64: SessionRate): GoalCheck[] {
  const c = GOALS.atConcurrency;
  const checks: GoalCheck[] = [];
  const speedup = (protocol: Protocol, factor: number) => {
    const off = findCell(cells, protocol, c, 'off');
    const best = bestBatched(cells, protocol, c);
    const ratio = best.requestsPerSecond / off.requestsPerSecond;
    checks.push(
      goal(
        `${PROTOCOL_LABEL[protocol]} batched (best of timed/eager) ≥ ${factor}× unbatched at c=${c}`,
        ratio >= factor,
        `${best.policy} ${formatRate(best.requestsPerSecond)} rows/s vs off ${formatRate(off.requestsPerSecond)} rows/s = ${formatFactor(ratio)} (need ≥ ${formatFactor(factor)})`,
        [off, best],
      ),
    );
  };
  speedup('rest', GOALS.restSpeedup);
  speedup('v2', GOALS.v2Speedup);

  const best = bestBatched(cells, 'v2', c);
  const ceilingRows = ceiling64.runsPerSecond * ceiling64.batch;
  const share = best.requestsPerSecond / ceilingRows;
  checks.push(
    goal(
      `V2 binary batched at c=${c} ≥ ${Math.round(GOALS.v2OfCeiling * 100)}% of in-process session.run at batch ${ceiling64.batch}`,
      share >= GOALS.v2OfCeiling,
      `${best.policy} ${formatRate(best.requestsPerSecond)} rows/s vs in-process ${formatRate(ceilingRows)} rows/s = ${Math.round(share * 100)}% (need ≥ ${Math.round(GOALS.v2OfCeiling * 100)}%)`,
      [best],
    ),
  );

  for (const protocol of PROTOCOLS) {
    const off = findCell(cells, protocol, 1, 'off');
    const eager = findCell(cells, protocol, 1, 'eager');
    const change = eager.p99Ms / off.p99Ms - 1;
    const sign = change >= 0 ? '+' : '−';
    checks.push(
      goal(
        `${PROTOCOL_LABEL[protocol]} p99 at c=1 with eager within ${Math.round(GOALS.p99Slack * 100)}% of off`,
        eager.p99Ms <= off.p99Ms * (1 + GOALS.p99Slack),
        `eager ${formatMs(eager.p99Ms)} ms vs off ${formatMs(off.p99Ms)} ms = ${sign}${Math.abs(change * 100).toFixed(1)}% (need ≤ +${Math.round(GOALS.p99Slack * 100)}%)`,
        [off, eager],
      ),
    );
  }
  return checks;
}
