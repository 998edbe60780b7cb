/** The stdout destination: one JSON line per record, written asynchronously (the write callback settles the batch). */
import type { Writable } from 'node:stream';
import type { Destination } from './destination.js';

export class StdoutDestination implements Destination {
  readonly type = 'stdout';

  constructor(private readonly stream: Writable = process.stdout) {}

  write(records: readonly string[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.stream.write(`${records.join('\n')}\n`, (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    // stdout is the process's, not ours to end.
  }
}
