/**
 * The connections of a server while it shuts down: how long to let them settle, which to close at once (those with no
 * request under way: idle, or never finished sending one), and the bound on the rest (server.shutdown_timeout_ms).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/** During shutdown: how long a keep-alive connection may stay idle before it is closed. */
export const DRAIN_IDLE_CLOSE_MS = 500;

/** The HTTP app being stopped (a fastify instance): its server, and its close, which stops accepting. */
export interface ClosingApp {
  readonly server: Server;
  close(): PromiseLike<unknown>;
}

export interface Connections {
  /** Closes every connection with no request under way (idle, or one that never finished its request's headers). */
  closeUnstarted(): number;
}

/**
 * Keeps the server's open connections (one Set operation when a connection opens and when it closes, nothing per
 * request). `tls`: the HTTP connections are the TLS sockets, known once their handshake is done.
 */
export function trackConnections(server: Server, tls: boolean): Connections {
  const open = new Set<Socket>();
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return {
    closeUnstarted() {
      let closed = 0;
      for (const socket of open) {
        // Node's HTTP server sets _httpMessage to the response of the request under way on the connection, from the
        // end of its headers until the response is done: without one, nothing on the connection is being served.
        if ((socket as Socket & { _httpMessage?: unknown })._httpMessage) continue;
        socket.destroy();
        closed++;
      }
      return closed;
    },
  };
}

/**
 * Stops accepting and lets requests in flight finish (those that arrived since the drain began are answered with
 * `Connection: close`: http/app.ts), then, past `timeoutMs` (0: never), closes every connection still open: a request
 * still being sent, or one waiting for a model call with no deadline, must not keep the process alive.
 */
export async function closeBounded(app: ClosingApp, connections: Connections, timeoutMs: number, logger: Logger): Promise<void> {
  // A connection whose request was answered during the drain goes idle and is closed after this much idleness, not
  // after server.keep_alive_timeout_ms (Node reads the value when each answer ends); those idle now close at once.
  app.server.keepAliveTimeout = Math.min(app.server.keepAliveTimeout, DRAIN_IDLE_CLOSE_MS);
  const closing = app.close();
  // A connection that has not sent a whole request's headers by now never will be served: closed at once, it does not
  // hold the shutdown until the timeout.
  const unstarted = connections.closeUnstarted();
  if (unstarted > 0) logger.debug({ connections: unstarted }, 'closed connections with no request under way');
  if (timeoutMs <= 0) {
    await closing;
    return;
  }
  const timer = setTimeout(() => {
    logger.warn({ shutdown_timeout_ms: timeoutMs }, 'requests still open past server.shutdown_timeout_ms: closing their connections');
    app.server.closeAllConnections();
  }, timeoutMs);
  try {
    await closing;
  } finally {
    clearTimeout(timer);
  }
}


/**
 * Waits up to `ms` (when above 0) while any connection is open. The listener's close closes every keep-alive
 * connection idle at that instant, and a client that just had an answer (sent with keep-alive, before the drain) may
 * have its next request on the way: it would be reset, never processed. After this wait a busy connection has sent its
 * next request (answered with `Connection: close`, so the client stops reusing it) and one still idle has been idle
 * since the drain began, so closing it is an idle timeout rather than a race (left: a request from before the drain
 * answered in the very last instant, docs/deployment.md). A drain delay at least this long makes it a no-op.
 */
export async function whileConnectionsOpen(app: ClosingApp, ms: number): Promise<void> {
  const until = performance.now() + ms;
  const openConnections = () => new Promise<number>((resolve) => app.server.getConnections((error, count) => resolve(error ? 0 : count)));
  while (performance.now() < until && (await openConnections()) > 0) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(25, until - performance.now())));
  }
}

