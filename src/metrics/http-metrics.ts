/**
 * The HTTP metrics of Python's prometheus-fastapi-instrumentator (what rest-model-service users already scrape and
 * chart): the same names, types, labels, help texts and buckets, and the same options (config.metrics). Knows nothing
 * of fastify: src/http/metrics.ts feeds it the route template, method, status, duration and sizes of each response.
 *
 * Hot path: one string key (`route method status`) and one Map lookup per response; every child it needs is bound the
 * first time a key is seen. The key uses the router's own template string (`/api/models/:name/prediction`) and the
 * numeric status, so the OpenAPI-style handler label, the status group and the exclusion rules are computed once per
 * key, never per request. A raw URL never becomes a label value: requests that match no route are `none` or left out.
 */
import type { Registry } from 'prom-client';
import type { LongshoreConfig } from '../config/schema.js';
import { FastCounter, FastGauge, FastHistogram, FastSummary, type HistogramChild, type SummaryChild } from './fast-histogram.js';

export type HttpMetricsOptions = Pick<
  LongshoreConfig['metrics'],
  | 'should_group_status_codes'
  | 'should_ignore_untemplated'
  | 'should_group_untemplated'
  | 'should_round_latency_decimals'
  | 'round_latency_decimals'
  | 'should_instrument_requests_inprogress'
  | 'inprogress_name'
  | 'inprogress_labels'
  | 'excluded_handlers'
>;

/** The instrumentator's defaults: many buckets, for percentiles over the whole service. */
export const HIGHR_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30, 60];
/** The instrumentator's defaults: few buckets, because this histogram is labelled by handler and method. */
export const LOWR_BUCKETS = [0.1, 0.5, 1];

/** The handler label of requests that matched no route (should_group_untemplated). */
export const UNTEMPLATED_HANDLER = 'none';

/** What one (route, method, status) key counts into. */
interface Series {
  readonly total: { value: number };
  readonly duration: HistogramChild;
  readonly requestSize: SummaryChild;
  readonly responseSize: SummaryChild;
}

/** Key prefix of requests that matched no route; a router template always starts with `/` or `*`. */
const UNTEMPLATED_KEY = '\u0000';

/** fastify's route syntax → OpenAPI's: `/api/models/:name/prediction` → `/api/models/{name}/prediction`. */
export function openApiTemplate(route: string): string {
  return route
    .replaceAll('::', '\u0001')
    .replace(/:([A-Za-z0-9_]+)(\((?:\\.|[^\\)])*\))?/g, '{$1}')
    .replaceAll('\u0001', ':');
}

/** The URL without its query string. */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export class HttpMetrics {
  readonly requests: FastCounter;
  readonly requestSize: FastSummary;
  readonly responseSize: FastSummary;
  readonly duration: FastHistogram;
  readonly durationHighr: FastHistogram;
  readonly inProgress: FastGauge | undefined;
  readonly #highr: HistogramChild;
  readonly #series = new Map<string, Series | null>();
  readonly #inProgressChildren = new Map<string, { value: number } | null>();
  readonly #excluded: readonly RegExp[];
  readonly #options: HttpMetricsOptions;
  /** 10^decimals when latencies are rounded, else 0. */
  readonly #roundScale: number;

  constructor(registry: Registry, options: HttpMetricsOptions) {
    this.#options = options;
    this.#excluded = options.excluded_handlers.map((pattern) => {
      try {
        return new RegExp(pattern);
      } catch (error) {
        throw new Error(`metrics.excluded_handlers: ${JSON.stringify(pattern)} is not a valid regular expression (${(error as Error).message})`);
      }
    });
    this.#roundScale = options.should_round_latency_decimals ? 10 ** options.round_latency_decimals : 0;
    this.requests = new FastCounter('http_requests_total', 'Total number of requests by method, status and handler.', registry);
    this.requestSize = new FastSummary(
      'http_request_size_bytes',
      'Content length of incoming requests by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ',
      registry,
    );
    this.responseSize = new FastSummary(
      'http_response_size_bytes',
      'Content length of outgoing responses by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ',
      registry,
    );
    this.durationHighr = new FastHistogram(
      'http_request_duration_highr_seconds',
      'Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ',
      HIGHR_BUCKETS,
      registry,
    );
    this.duration = new FastHistogram(
      'http_request_duration_seconds',
      'Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ',
      LOWR_BUCKETS,
      registry,
    );
    this.#highr = this.durationHighr.child({});
    this.inProgress = options.should_instrument_requests_inprogress
      ? new FastGauge(options.inprogress_name, 'Number of HTTP requests in progress.', registry)
      : undefined;
    // Like prometheus_client, an unlabelled gauge exists (at 0) from the start.
    if (this.inProgress && !options.inprogress_labels) this.inProgress.child({});
  }

  /**
   * Counts one response. `route` is the router's template (undefined when no route matched); `url` is read only for
   * such a request, and only when excluded_handlers is set (the instrumentator matches an untemplated request's path).
   */
  observe(route: string | undefined, url: string, method: string, status: number, seconds: number, requestBytes: number, responseBytes: number): void {
    let series: Series | null | undefined;
    if (route === undefined) {
      if (!this.#countsUntemplated(url)) return;
      const key = `${UNTEMPLATED_KEY} ${method} ${status}`;
      series = this.#series.get(key);
      if (series === undefined) this.#series.set(key, (series = this.#bind(UNTEMPLATED_HANDLER, method, status)));
    } else {
      const key = `${route} ${method} ${status}`;
      series = this.#series.get(key);
      if (series === undefined) {
        const handler = openApiTemplate(route);
        series = this.#isExcluded(handler) ? null : this.#bind(handler, method, status);
        this.#series.set(key, series);
      }
    }
    if (series === null) return;
    if (this.#roundScale !== 0) seconds = Math.round(seconds * this.#roundScale) / this.#roundScale;
    series.total.value++;
    series.requestSize.observe(requestBytes);
    series.responseSize.observe(responseBytes);
    series.duration.observe(seconds);
    this.#highr.observe(seconds);
  }

  /**
   * The in-progress gauge's child for a request starting now, or undefined when the gauge is off or the request is
   * not counted (excluded, or untemplated and not grouped). The caller adds 1 now and takes it back when the
   * response closes (finished or aborted). `url` is the request's URL (its path is matched when no route matched).
   */
  inProgressFor(route: string | undefined, url: string, method: string): { value: number } | undefined {
    const gauge = this.inProgress;
    if (!gauge) return undefined;
    if (route === undefined && !this.#countsUntemplated(url)) return undefined;
    const key = `${route ?? UNTEMPLATED_KEY} ${method}`;
    let child = this.#inProgressChildren.get(key);
    if (child === undefined) {
      const handler = route === undefined ? UNTEMPLATED_HANDLER : openApiTemplate(route);
      if (route !== undefined && this.#isExcluded(handler)) child = null;
      else child = gauge.child(this.#options.inprogress_labels ? { method, handler } : {});
      this.#inProgressChildren.set(key, child);
    }
    return child ?? undefined;
  }

  #countsUntemplated(url: string): boolean {
    if (this.#options.should_ignore_untemplated || !this.#options.should_group_untemplated) return false;
    return this.#excluded.length === 0 || !this.#isExcluded(pathOf(url));
  }

  #isExcluded(handler: string): boolean {
    return this.#excluded.some((pattern) => pattern.test(handler));
  }

  #bind(handler: string, method: string, status: number): Series {
    const statusLabel = this.#options.should_group_status_codes ? `${Math.floor(status / 100)}xx` : String(status);
    return {
      total: this.requests.child({ method, status: statusLabel, handler }),
      duration: this.duration.child({ method, handler }),
      requestSize: this.requestSize.child({ handler }),
      responseSize: this.responseSize.child({ handler }),
    };
  }
}
