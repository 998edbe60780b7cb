/**
 * TLS (`tls:` in the config, docs/cors-and-tls.md): the certificate, key and optional CA files read once at start,
 * relative to the config file, and checked by building a secure context from them. A file that cannot be read, or
 * PEM that Node refuses (a key that does not match the certificate), is a ConfigError naming the key (exit 2).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { configError, type LoadedConfig } from '../config/load.js';

/** What buildApp hands to fastify's `https` option. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

type FileKey = 'cert_file' | 'key_file' | 'ca_file';

/** The files of `tls:`, or undefined when the section is absent (plain HTTP). */
export function readTlsMaterial(loaded: LoadedConfig): TlsMaterial | undefined {
  const tls = loaded.config.tls;
  if (tls === undefined) return undefined;
  const problems: ReturnType<LoadedConfig['problem']>[] = [];
  const read = (key: FileKey): Buffer | undefined => {
    const path = tls[key];
    if (path === undefined) return undefined;
    const file = resolve(loaded.dir, path);
    try {
      return readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push(loaded.problem(['tls', key], `cannot read ${file}${code === undefined ? '' : ` (${code})`}`));
      return undefined;
    }
  };
  const cert = read('cert_file');
  const key = read('key_file');
  const ca = read('ca_file');
  if (problems.length > 0 || cert === undefined || key === undefined) throw configError(loaded.file, problems);
  const material: TlsMaterial = ca === undefined ? { cert, key } : { cert, key, ca };
  try {
    createSecureContext(material);
  } catch (error) {
    throw configError(loaded.file, [loaded.problem(['tls'], `Node cannot use these files: ${(error as Error).message}`)]);
  }
  return material;
}
