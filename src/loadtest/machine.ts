/**
 * What `longshore bench` says about the machine, as `npm run bench` does (bench/environment.ts, bench/foreign-cpu.ts):
 * CPU, cores, memory, platform, Node, and how much CPU other processes used while a cell ran (Linux /proc only).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { LONGSHORE_VERSION } from '../version.js';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly node: string;
  readonly longshore: string;
  /** The load average (1 min) when the run started. */
  readonly loadAverage: number;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    longshore: LONGSHORE_VERSION,
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}

export function machineLine(host: Machine): string {
  return `Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.platform}; Node ${host.node}, longshore ${host.longshore}; load average ${host.loadAverage}`;
}

/** USER_HZ: the unit of /proc CPU times on Linux. */
const TICKS_PER_SECOND = 100;

function systemTicks(): { busy: number; steal: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: user + nice + system + irq + softirq, steal };
  } catch {
    return undefined;
  }
}

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  } catch {
    return 0;
  }
}

/** Average cores used by other processes, and stolen by the hypervisor, over an interval. */
export interface ForeignCpu {
  readonly otherCores: number;
  readonly stealCores: number;
}

/**
 * Starts measuring; call the result at the end. The processes of `ownPids` (read at the start and at the end; this
 * process by default) are "own", everything else "other". Undefined off Linux. `npm run bench` uses it too.
 */
export function startForeignCpu(ownPids: () => readonly number[] = () => [process.pid]): () => ForeignCpu | undefined {
  const startedAt = performance.now();
  const before = systemTicks();
  const ownBefore = new Map(ownPids().map((pid) => [pid, processTicks(pid)]));
  return () => {
    const after = systemTicks();
    if (!before || !after) return undefined;
    let own = 0;
    for (const pid of ownPids()) own += processTicks(pid) - (ownBefore.get(pid) ?? 0);
    const seconds = (performance.now() - startedAt) / 1000;
    return {
      otherCores: Math.max(0, after.busy - before.busy - own) / TICKS_PER_SECOND / seconds,
      stealCores: (after.steal - before.steal) / TICKS_PER_SECOND / seconds,
    };
  };
}
