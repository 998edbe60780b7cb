/**
 * How much CPU something other than the benchmark used while a cell ran (Linux /proc only): busy CPU time of the whole
 * machine minus that of the benchmark's own processes, plus time the hypervisor stole. On a 2-core machine a test suite
 * or a noisy neighbour running at the same time skews the ratios, and this is how a run says so.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc CPU times on Linux (100 on every mainstream kernel build). */
const TICKS_PER_SECOND = 100;

interface SystemTicks {
  readonly busy: number;
  readonly steal: number;
}

function systemTicks(): SystemTicks | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: user + nice + system + irq + softirq, steal };
  } catch {
    return undefined;
  }
}

/** utime + stime of one process, 0 when it is gone or /proc is not there. */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  } catch {
    return 0;
  }
}

export interface ForeignCpu {
  /** Average CPU cores used by other processes during the interval. */
  readonly otherCores: number;
  /** Average cores' worth of time stolen by the hypervisor. */
  readonly stealCores: number;
}

/** Starts measuring; call the returned function at the end of the interval. Undefined results off Linux. */
export function startForeignCpu(ownPids: () => readonly number[]): () => ForeignCpu | undefined {
  const startedAt = performance.now();
  const before = systemTicks();
  const ownBefore = new Map(ownPids().map((pid) => [pid, processTicks(pid)]));
  return () => {
    const after = systemTicks();
    if (!before || !after) return undefined;
    let own = 0;
    for (const pid of ownPids()) own += processTicks(pid) - (ownBefore.get(pid) ?? 0);
    const seconds = (performance.now() - startedAt) / 1000;
    const other = Math.max(0, after.busy - before.busy - own);
    return { otherCores: other / TICKS_PER_SECOND / seconds, stealCores: (after.steal - before.steal) / TICKS_PER_SECOND / seconds };
  };
}
