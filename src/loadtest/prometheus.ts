/**
 * The fallback when a server sends no `Server-Timing` (an older server, or gRPC): the sums and counts of the queue
 * wait, model call and batch size histograms of one model, read from `/metrics` before and after a run, and their
 * deltas as averages. Parsing is a pure function over the Prometheus text format.
 */

/** The histograms read, by their metric name. */
const HISTOGRAMS = {
  queue: 'longshore_queue_duration_seconds',
  model: 'longshore_inference_duration_seconds',
  batch: 'longshore_batch_size',
} as const;

type Histogram = keyof typeof HISTOGRAMS;

/** Sum and count of each histogram for one model (summed over its versions); zero when absent. */
export type ModelHistograms = Record<Histogram, { readonly sum: number; readonly count: number }>;

/** The label values of a sample line's `{...}` part. */
function labelsOf(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const match of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels.set(match[1] as string, (match[2] as string).replace(/\\n/g, '\n').replace(/\\(.)/g, '$1'));
  }
  return labels;
}

/**
 * The histograms of `model` in a `/metrics` text. Series without a `model` label (metrics.model_labels: false) count
 * for every model: then the figures are the whole server's.
 */
export function modelHistograms(text: string, model: string): ModelHistograms {
  const result: Record<Histogram, { sum: number; count: number }> = {
    queue: { sum: 0, count: 0 },
    model: { sum: 0, count: 0 },
    batch: { sum: 0, count: 0 },
  };
  const byName = new Map<string, [Histogram, 'sum' | 'count']>();
  for (const [key, name] of Object.entries(HISTOGRAMS) as [Histogram, string][]) {
    byName.set(`${name}_sum`, [key, 'sum']);
    byName.set(`${name}_count`, [key, 'count']);
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const target = byName.get(match[1] as string);
    if (!target) continue;
    const labels = labelsOf(match[2] ?? '');
    if (labels.has('model') && labels.get('model') !== model) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) result[target[0]][target[1]] += value;
  }
  return result;
}

/** Averages over a run from two readings: queue wait and model call in ms, batch size in rows; undefined with no data. */
export function histogramAverages(before: ModelHistograms, after: ModelHistograms): { queueMs?: number; modelMs?: number; batchSize?: number } {
  const mean = (key: Histogram, scale: number) => {
    const count = after[key].count - before[key].count;
    return count > 0 ? ((after[key].sum - before[key].sum) / count) * scale : undefined;
  };
  const queueMs = mean('queue', 1000);
  const modelMs = mean('model', 1000);
  const batchSize = mean('batch', 1);
  return {
    ...(queueMs === undefined ? {} : { queueMs }),
    ...(modelMs === undefined ? {} : { modelMs }),
    ...(batchSize === undefined ? {} : { batchSize }),
  };
}
