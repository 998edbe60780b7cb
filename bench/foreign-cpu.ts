/**
 * How much CPU something other than the benchmark used while a cell ran (Linux /proc only): busy CPU time of the whole
 * machine minus that of the benchmark's own processes, plus time the hypervisor stole. On a 2-core machine a test suite
 * or a noisy neighbour running at the same time skews the ratios, and this is how a run says so. The one
 * implementation is `longshore bench`'s (src/loadtest/machine.ts).
 */
export { startForeignCpu, type ForeignCpu } from '../src/loadtest/machine.ts';
