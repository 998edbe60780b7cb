/**
 * The file destination: JSON Lines appended to one file, rotated by size: before a record would take the file past
 * max_bytes, file.{N-1} → file.N (the oldest, file.max_files, is replaced), ..., file → file.1, and a new file starts.
 * The directory is created. Writes from every model sharing the file run one at a time.
 */
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DestinationWriteError, type Destination } from './destination.js';

export interface FileDestinationSettings {
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
}

export class FileDestination implements Destination {
  readonly type = 'file';
  #handle: FileHandle | undefined;
  /** Bytes in the current file. */
  #size = 0;
  /** The last write, so the next one starts after it. */
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(private readonly settings: FileDestinationSettings) {}

  write(records: readonly string[]): Promise<void> {
    const run = this.#tail.then(() => this.#write(records));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail;
    await this.#release();
  }

  async #write(records: readonly string[]): Promise<void> {
    if (this.#closed) throw new Error('the prediction log file is closed');
    let written = 0;
    let chunk: string[] = [];
    let chunkBytes = 0;
    try {
      await this.#open();
      for (const record of records) {
        const bytes = Buffer.byteLength(record) + 1;
        // A record alone bigger than max_bytes still gets a file of its own rather than being lost.
        if (this.#size + chunkBytes > 0 && this.#size + chunkBytes + bytes > this.settings.maxBytes) {
          if (chunk.length > 0) {
            await this.#append(chunk);
            written += chunk.length;
            chunk = [];
            chunkBytes = 0;
          }
          await this.#rotate();
        }
        chunk.push(record);
        chunkBytes += bytes;
      }
      if (chunk.length > 0) await this.#append(chunk);
    } catch (error) {
      await this.#release();
      throw new DestinationWriteError(`cannot write the prediction log file ${this.settings.path}: ${(error as Error).message}`, written, { cause: error });
    }
  }

  async #open(): Promise<FileHandle> {
    if (this.#handle) return this.#handle;
    await mkdir(dirname(this.settings.path), { recursive: true });
    const handle = await open(this.settings.path, 'a');
    try {
      this.#size = (await handle.stat()).size;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    this.#handle = handle;
    return handle;
  }

  async #append(lines: readonly string[]): Promise<void> {
    const text = Buffer.from(`${lines.join('\n')}\n`);
    await (await this.#open()).appendFile(text);
    this.#size += text.length;
  }

  async #rotate(): Promise<void> {
    await this.#release();
    const { path, maxFiles } = this.settings;
    for (let index = maxFiles - 1; index >= 1; index--) await renameIfPresent(`${path}.${index}`, `${path}.${index + 1}`);
    await renameIfPresent(path, `${path}.1`);
    await this.#open();
  }

  async #release(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#size = 0;
    await handle?.close().catch(() => undefined);
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
