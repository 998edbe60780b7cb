/**
 * The errors of binding the server's port, said in one line with the fix (the CLI prints it instead of a stack trace).
 */

/** One line with the fix for the errors of binding the port (in use, not allowed), instead of a stack trace. */
export function describeListenError(error: unknown): string | undefined {
  const { code, syscall, address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (syscall !== 'listen') return undefined;
  const where = `${address ?? 'the host'}:${port ?? '?'}`;
  const fix = 'choose another port with --port or LONGSHORE_PORT (server.port in the config)';
  if (code === 'EADDRINUSE') return `cannot listen on ${where}: the port is already in use; stop what uses it, or ${fix}`;
  if (code === 'EACCES') return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); ${fix}`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: no network interface has that address; fix --host or LONGSHORE_HOST (server.host)`;
  return undefined;
}
