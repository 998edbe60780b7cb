/**
 * The http destination: each batch is one POST of a JSON array (content-type application/json, plus the configured
 * headers), answered within timeout_ms with a 2xx, or it failed (and the batch is retried later by the log).
 */
import http from 'node:http';
import https from 'node:https';
import type { Destination } from './destination.js';

export interface HttpDestinationSettings {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export class HttpDestination implements Destination {
  readonly type = 'http';
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #requests = new Set<http.ClientRequest>();

  constructor(private readonly settings: HttpDestinationSettings) {
    this.#url = new URL(settings.url);
    const secure = this.#url.protocol === 'https:';
    this.#agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 4 }) : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  write(records: readonly string[]): Promise<void> {
    const body = Buffer.from(`[${records.join(',')}]`);
    const send = this.#url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      let response: http.IncomingMessage | undefined;
      /** Settles on the answer's status once it is complete (a promise settles once: later calls do nothing). */
      const settle = () => {
        const status = response?.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`${this.settings.url} answered ${status} ${response?.statusMessage ?? ''}`.trimEnd()));
      };
      const request = send(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: { 'content-type': 'application/json', ...this.settings.headers, 'content-length': String(body.length) },
        },
        (answer) => {
          response = answer;
          answer.resume();
          answer.on('end', settle);
        },
      );
      this.#requests.add(request);
      const timer = setTimeout(() => request.destroy(new Error(`${this.settings.url} did not answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
      request.on('error', (error) => reject(new Error(`cannot POST to ${this.settings.url}: ${error.message}`, { cause: error })));
      request.on('close', () => {
        clearTimeout(timer);
        this.#requests.delete(request);
        if (response?.complete) settle();
        else reject(new Error(`${this.settings.url} closed the connection before answering`));
      });
      request.end(body);
    });
  }

  async close(): Promise<void> {
    for (const request of this.#requests) request.destroy(new Error('the prediction log is closed'));
    this.#agent.destroy();
  }
}
