/**
 * Memory of the worker threads of a code model's pool (`workers: N`): each thread's used V8 heap, asked for over the
 * pool's BroadcastChannel (Node 20 has no Worker.getHeapStatistics(), added in Node 22.16), and the error a call gets
 * when its thread ran out of `memory_limit_mb`.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { isWorkerReport, WORKER_REPORT, type MemoryRequest } from './worker-protocol.js';

/** How long a reading waits for the threads; a thread busy in a synchronous call answers after it, so it is left out. */
export const WORKER_MEMORY_TIMEOUT_MS = 1000;

let nextRequest = 0;

/** The summed used heap of the threads that answered within WORKER_MEMORY_TIMEOUT_MS, and how many of how many did. */
export async function readPoolHeap(pool: Piscina, channelName: string): Promise<{ heapUsed: number; answered: number; threads: number }> {
  const threads = pool.threads.length;
  const request = nextRequest++;
  const replies = new Map<number, number>();
  if (threads === 0) return { heapUsed: 0, answered: 0, threads };
  const channel = new BroadcastChannel(channelName);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, WORKER_MEMORY_TIMEOUT_MS);
    function done(): void {
      clearTimeout(timer);
      pool.off('message', onMessage);
      resolve();
    }
    function onMessage(message: unknown): void {
      if (!isWorkerReport(message) || message[WORKER_REPORT] !== 'memory' || message.request !== request) return;
      replies.set(message.threadId, message.heapUsed);
      if (replies.size >= threads) done();
    }
    pool.on('message', onMessage);
    channel.postMessage({ kind: 'memory', request } satisfies MemoryRequest);
  });
  channel.close();
  let heapUsed = 0;
  for (const used of replies.values()) heapUsed += used;
  return { heapUsed, answered: replies.size, threads };
}

/** Whether `error` (a call's rejection, or a thread's `error` event) is a worker thread that hit its resourceLimits. */
export function isOutOfMemory(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
}
