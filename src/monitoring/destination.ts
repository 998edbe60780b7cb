/**
 * Where prediction log records go. A destination writes one batch of records (each a JSON text) at a time and says,
 * when it fails, how many of the batch's first records it did write, so a retry never writes a record twice.
 */
import { FileDestination } from './file-destination.js';
import { HttpDestination } from './http-destination.js';
import type { DestinationSettings } from './settings.js';
import { StdoutDestination } from './stdout-destination.js';

export interface Destination {
  readonly type: DestinationSettings['type'];
  /** Writes every record of the batch, in order; rejects (a DestinationWriteError when some were written) otherwise. */
  write(records: readonly string[]): Promise<void>;
  /** Releases files and connections; a write in progress is abandoned. */
  close(): Promise<void>;
}

/** A failed write after which the batch's first `written` records are at the destination. */
export class DestinationWriteError extends Error {
  constructor(
    message: string,
    readonly written: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DestinationWriteError';
  }
}

/** How many of the batch's records a failed write still delivered. */
export function writtenBefore(error: unknown): number {
  return error instanceof DestinationWriteError ? error.written : 0;
}

export function createDestination(settings: DestinationSettings): Destination {
  switch (settings.type) {
    case 'stdout':
      return new StdoutDestination();
    case 'file':
      return new FileDestination(settings);
    case 'http':
      return new HttpDestination(settings);
  }
}

/**
 * The destinations of one server. Models that name the same file (or stdout) share one destination, so their writes
 * never interleave inside a line and one writer rotates the file; it is closed when its last model closes it.
 */
export class DestinationPool {
  readonly #shared = new Map<string, { destination: Destination; users: number }>();

  open(settings: DestinationSettings): Destination {
    const key = settings.type === 'file' ? `file:${settings.path}` : settings.type === 'stdout' ? 'stdout' : undefined;
    if (key === undefined) return createDestination(settings);
    let entry = this.#shared.get(key);
    if (!entry) {
      entry = { destination: createDestination(settings), users: 0 };
      this.#shared.set(key, entry);
    }
    entry.users++;
    const shared = entry;
    let closed = false;
    return {
      type: shared.destination.type,
      write: (records) => shared.destination.write(records),
      close: async () => {
        if (closed) return;
        closed = true;
        if (--shared.users > 0) return;
        this.#shared.delete(key);
        await shared.destination.close();
      },
    };
  }
}
